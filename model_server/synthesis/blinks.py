"""Natural eye blinks: every few seconds, more likely at pauses, fast close and slower open."""

from __future__ import annotations

import numpy as np

from ..audio.types import Phone

CLOSE_S, HOLD_S, OPEN_S = 0.07, 0.04, 0.13


def blink_curve(duration: float, num_frames: int, fps: float, phones: list[Phone], seed: int) -> np.ndarray:
    """(T,) eyelid closure 0..1, deterministic for a seed."""
    rng = np.random.default_rng(seed)
    pauses = [p.start for p in phones if p.phone == "SIL" and p.end - p.start > 0.2]
    onsets, t = [], rng.uniform(0.3, 2.0)
    while t < duration - 0.1:
        near = [p for p in pauses if 0 <= p - t < 1.2]
        onsets.append(near[0] if near else t)  # a blink due soon waits for the next pause
        t = onsets[-1] + CLOSE_S + HOLD_S + OPEN_S + rng.gamma(4.0, 0.9)
    times = np.arange(num_frames) / fps
    curve = np.zeros(num_frames)
    for onset in onsets:
        x = times - onset
        closing = np.clip(x / CLOSE_S, 0, 1)
        opening = np.clip(1 - (x - CLOSE_S - HOLD_S) / OPEN_S, 0, 1)
        curve = np.maximum(curve, np.where(x < CLOSE_S + HOLD_S, closing, opening) * (x >= 0))
    return curve
