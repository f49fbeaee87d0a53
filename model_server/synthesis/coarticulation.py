"""Cohen–Massaro coarticulation: each frame blends phone targets by their dominance functions."""

from __future__ import annotations

import numpy as np

from ..arkit import ARKIT_INDEX, ARKIT_NAMES
from ..audio.types import Phone
from .visemes import viseme_for

REACH_SECONDS = 0.35  # beyond this, a phone's dominance is negligible


def blend_visemes(phones: list[Phone], num_frames: int, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """(T, 52) ARKit mouth targets and (T,) jaw opening, blended across neighbouring phones."""
    times = np.arange(num_frames) / fps
    weighted = np.zeros((num_frames, len(ARKIT_NAMES) + 1))  # last column: jaw
    total = np.full(num_frames, 1e-6)
    for phone in phones:
        viseme = viseme_for(phone.phone)
        lo = int(max(0, np.floor((phone.start - REACH_SECONDS) * fps)))
        hi = int(min(num_frames, np.ceil((phone.end + REACH_SECONDS) * fps) + 1))
        if hi <= lo:
            continue
        t = times[lo:hi]
        outside = np.maximum(0.0, np.maximum(phone.start - t, t - phone.end))
        dominance = viseme.dominance * np.exp(-viseme.spread * outside)
        target = np.zeros(len(ARKIT_NAMES) + 1)
        for name, value in viseme.shape.items():
            target[ARKIT_INDEX[name]] = value
        target[-1] = viseme.jaw
        weighted[lo:hi] += dominance[:, None] * target[None, :]
        total[lo:hi] += dominance
    blended = weighted / total[:, None]
    return blended[:, :-1], blended[:, -1]

