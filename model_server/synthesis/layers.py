"""What the layers of a take share: the neutral instruction the lips layer is made under, and each
layer's jaw. The layers themselves (lips, expression, eyes, blinks, adding up exactly to the take) are
made by the nonverbal layer's composer (nonverbal/compose.py), so that an animator can mute, weight or
re-time the expression without touching the lip sync; the lips do not depend on the instruction, so
regenerating after an instruction edit leaves them alone.
"""

from __future__ import annotations

import numpy as np

from .jaw import jaw_pose_from_arkit

NEUTRAL_INSTRUCTION = "A neutral person speaks with relaxed face."


def layer_jaws(layers: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each layer's jaw pose: the jaw is linear in the ARKit jaw channels, so the layers' jaws add up too."""
    return {name: jaw_pose_from_arkit(weights) for name, weights in layers.items()}
