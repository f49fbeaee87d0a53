"""The lips touch at every /p b m/: a phonetic guarantee applied on top of any synthesizer's motion.

A learned decoder at 25 fps rounds short closures off (a 40 ms /p/ between two vowels stays
ajar), and resampling to the scene's rate can move the closed frame away. Applied last, at the
scene's own rate, this makes the closure exact on at least one frame of every bilabial while
touching nothing else: the jaw keeps its motion and style, only the lips meet, easing in and out
over CLOSURE_EASE_S so the motion around a closure stays smooth.
"""

from __future__ import annotations

import numpy as np

from ..arkit import ARKIT_INDEX
from ..audio.types import Phone
from .metrics import phone_frames
from .visemes import BILABIALS

CLOSURE_EASE_S = 0.04  # lips go from open to touching over about one frame at 25 fps
CORE_SHARE = 0.15  # the first and last 15 % of a bilabial blend with its neighbours
_I = ARKIT_INDEX
# What lip_aperture (metrics.py) counts as opening the lips, apart from the jaw.
LIP_OPENERS = [_I[n] for n in ("mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft",
                               "mouthUpperUpRight", "mouthFunnel")]


def closure_weights(phones: list[Phone], num_frames: int, fps: float) -> np.ndarray:
    """(T,) 1 where the lips must touch (the core of /p b m/), easing to 0 over CLOSURE_EASE_S."""
    times = np.arange(num_frames) / fps
    weight = np.zeros(num_frames)
    for phone in phones:
        if phone.phone not in BILABIALS:
            continue
        core = CORE_SHARE * (phone.end - phone.start)
        start, end = phone.start + core, phone.end - core
        distance = np.maximum(0.0, np.maximum(start - times, times - end))
        weight = np.maximum(weight, np.clip(1.0 - distance / CLOSURE_EASE_S, 0.0, 1.0))
        # Every bilabial closes on at least one of its own frames, however short the phone: of the
        # frames inside it (or, for a phone between two frames, the nearest one) the one nearest its middle.
        frames = phone_frames(phone, fps, num_frames)
        if len(frames):
            weight[frames[np.argmin(np.abs(frames / fps - (phone.start + phone.end) / 2))]] = 1.0
    return weight


def close_lips(arkit: np.ndarray, phones: list[Phone], fps: float) -> np.ndarray:
    """(T, 52) ARKit weights at `fps` with the lips closed at /p b m/ (a new array).

    Where the weight is 1 the openers are 0 and mouthClose equals jawOpen, so the lip aperture is
    exactly 0 (ARKit's mouthClose closes the lips against an open jaw)."""
    closure = closure_weights(phones, len(arkit), fps)
    out = np.array(arkit, dtype=np.float64, copy=True)
    out[:, LIP_OPENERS] *= (1.0 - closure)[:, None]
    out[:, _I["mouthClose"]] = np.maximum(out[:, _I["mouthClose"]], closure * out[:, _I["jawOpen"]])
    return out.astype(np.asarray(arkit).dtype, copy=False)
