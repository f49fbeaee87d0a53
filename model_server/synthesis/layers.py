"""A take split into layers that add up to it, so an animator can mute, weight or re-time the
expression without touching the lip sync:

- lips: the same speech, seed and synthesizer under a neutral instruction, without blinks;
- expression: what the instruction changes (the take without blinks, minus the lips);
- blinks: what the blinks add (the take, minus the take without blinks).

lips + expression + blinks equals the take exactly, for both synthesizers and any instruction; the
lips do not depend on the instruction, so regenerating after an instruction edit leaves them alone.
"""

from __future__ import annotations

import numpy as np

from .jaw import jaw_pose_from_arkit

NEUTRAL_INSTRUCTION = "A neutral person speaks with relaxed face."


def synthesize_layers(synthesizer, analysis, segments: list[dict], *, seed: int, fps: float,
                      guidance: float | None, sampled: bool):
    """(the take's articulation, {layer: (T, 52) ARKit weights}), the layers summing to the take."""
    take = synthesizer.synthesize(analysis, segments, seed=seed, fps=fps, guidance=guidance, sampled=sampled)
    no_blinks = synthesizer.synthesize(analysis, segments, seed=seed, fps=fps, guidance=guidance, sampled=sampled,
                                       blinks=False)
    neutral = [dict(segment, instruction=NEUTRAL_INSTRUCTION) for segment in segments]
    lips = synthesizer.synthesize(analysis, neutral, seed=seed, fps=fps, guidance=guidance, sampled=False, blinks=False)
    layers = {"lips": lips.arkit, "expression": no_blinks.arkit - lips.arkit, "blinks": take.arkit - no_blinks.arkit}
    return take, layers


def layer_jaws(layers: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each layer's jaw pose: the jaw is linear in the ARKit jaw channels, so the layers' jaws add up too."""
    return {name: jaw_pose_from_arkit(weights) for name, weights in layers.items()}
