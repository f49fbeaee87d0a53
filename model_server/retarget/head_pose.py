"""Head and eye motion as FLAME poses: FLAME's pose vector holds global, neck, jaw and both eyes'
rotations as axis-angles in its own frame, which is the head's frame of nonverbal/head.py (x to the
speaker's left, y up, z forward)."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation


def flame_neck_pose(rotation: np.ndarray) -> np.ndarray:
    """(T, 3) neck axis-angles from (T, 3) pitch, yaw, roll (R = Ry(yaw) · Rx(pitch) · Rz(roll))."""
    rotation = np.asarray(rotation, dtype=np.float64)
    if len(rotation) == 0:
        return np.zeros((0, 3))
    return Rotation.from_euler("YXZ", rotation[:, [1, 0, 2]]).as_rotvec()


def flame_eye_poses(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """(T, 6) both eyes' axis-angles, left then right, from each eye's (T, 2) yaw and pitch."""
    out = []
    for eye in (np.asarray(left, dtype=np.float64), np.asarray(right, dtype=np.float64)):
        angles = np.stack([eye[:, 0], eye[:, 1], np.zeros(len(eye))], axis=1)
        out.append(Rotation.from_euler("YXZ", angles).as_rotvec() if len(eye) else np.zeros((0, 3)))
    return np.concatenate(out, axis=1)
