"""Measures on articulation curves, shared by tests, evaluation and the closure constraint."""

from __future__ import annotations

import numpy as np

from ..arkit import ARKIT_INDEX

_I = ARKIT_INDEX


def phone_frames(phone, fps: float, frames: int) -> np.ndarray:
    """Frames whose time lies in the phone [start, end), or the nearest frame for a phone shorter than a frame."""
    first, last = int(np.ceil(phone.start * fps - 1e-9)), int(np.floor(phone.end * fps - 1e-9))
    if last < first:
        first = last = int(round((phone.start + phone.end) / 2 * fps))
    return np.arange(max(first, 0), min(last, frames - 1) + 1)


def lip_aperture(arkit):
    """(..., T) opening between the lips from (..., T, 52) ARKit weights: jaw opening and lip raising
    minus what closes the lips.

    0 means lips touching; ARKit's mouthClose is defined relative to jawOpen (it closes the lips
    while the jaw stays open), so it subtracts one for one. Takes numpy arrays and torch tensors
    alike: training differentiates through the same formula the metrics measure with.
    """
    w = arkit if hasattr(arkit, "clip") else np.asarray(arkit)
    lower = (w[..., _I["mouthLowerDownLeft"]] + w[..., _I["mouthLowerDownRight"]]) / 2
    upper = (w[..., _I["mouthUpperUpLeft"]] + w[..., _I["mouthUpperUpRight"]]) / 2
    opening = w[..., _I["jawOpen"]] + 0.5 * lower + 0.5 * upper + 0.3 * w[..., _I["mouthFunnel"]]
    return (opening - w[..., _I["mouthClose"]]).clip(min=0.0)
