"""Jaw pose from the ARKit jaw channels: the one mapping every synthesizer uses."""

from __future__ import annotations

import numpy as np

from ..arkit import ARKIT_INDEX

MAX_JAW_RADIANS = 0.35  # FLAME jaw pitch at jawOpen = 1 (about 20 degrees)
MAX_JAW_SIDEWAYS_RADIANS = 0.1


def jaw_pose_from_arkit(arkit: np.ndarray) -> np.ndarray:
    """(T, 3) jaw axis-angle in radians from (T, 52) ARKit weights; +x opens the mouth."""
    jaw = np.zeros((len(arkit), 3))
    jaw[:, 0] = MAX_JAW_RADIANS * arkit[:, ARKIT_INDEX["jawOpen"]]
    jaw[:, 1] = MAX_JAW_SIDEWAYS_RADIANS * (arkit[:, ARKIT_INDEX["jawLeft"]] - arkit[:, ARKIT_INDEX["jawRight"]])
    return jaw
