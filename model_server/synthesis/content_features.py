"""Per-frame speech-content input of the learned synthesizer: phone occupancy and prosody.

Pocketsphinx's acoustic model was trained on real speech, so phones from it (forced alignment or
recognition) carry over from the synthetic training voices to human voices; raw spectra would not.
"""

from __future__ import annotations

import numpy as np

from ..audio.types import Phone, Prosody

PHONES = ("SIL", "AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY", "F", "G", "HH",
          "IH", "IY", "JH", "K", "L", "M", "N", "NG", "OW", "OY", "P", "R", "S", "SH", "T", "TH", "UH", "UW",
          "V", "W", "Y", "Z", "ZH")
PHONE_INDEX = {p: i for i, p in enumerate(PHONES)}
PROSODY_FEATURES = ("loudness", "loudness_delta", "voicing", "f0_relative")
NUM_CONTENT_FEATURES = len(PHONES) + len(PROSODY_FEATURES)
LOUDNESS_DELTA_SCALE = 4.0  # brings the per-frame change of loudness to about the range of the other features


def phone_occupancy(phones: list[Phone], num_frames: int, fps: float) -> np.ndarray:
    """(T, 40) fraction of each frame's span [t - 0.5/fps, t + 0.5/fps) taken by each phone.

    Occupancy rather than a one-hot keeps phones shorter than a frame (fast /p/, /t/) visible.
    """
    out = np.zeros((num_frames, len(PHONES)), dtype=np.float32)
    lo_edges = (np.arange(num_frames) - 0.5) / fps
    for phone in phones:
        column = PHONE_INDEX.get(phone.phone, 0)
        first = max(0, int(np.floor(phone.start * fps - 0.5)))
        last = min(num_frames, int(np.ceil(phone.end * fps + 0.5)) + 1)
        if last <= first:
            continue
        lo = lo_edges[first:last]
        overlap = np.minimum(lo + 1.0 / fps, phone.end) - np.maximum(lo, phone.start)
        out[first:last, column] += np.clip(overlap * fps, 0.0, 1.0)
    total = out.sum(axis=1)
    out[total < 1e-6, 0] = 1.0  # before the first phone or after the last
    return out / np.maximum(total, 1.0)[:, None]


def prosody_features(prosody: Prosody) -> np.ndarray:
    """(T, 4) loudness (clip-relative 0..1), its change per frame, voicing, and f0 in clip z-scores.

    f0 is relative to the clip's own median so the content path sees accents, not the voice's
    register (which would leak speaker and emotion into content).
    """
    loud = prosody.loudness_norm.astype(np.float32)
    delta = np.diff(loud, prepend=loud[:1]) * LOUDNESS_DELTA_SCALE
    f0 = prosody.f0
    voiced = f0 > 0
    relative = np.zeros_like(loud)
    if voiced.sum() >= 3:
        semitones = 12 * np.log2(f0[voiced] / np.median(f0[voiced]))
        relative[voiced] = np.clip(semitones / max(np.std(semitones), 1.0), -3, 3)
    return np.stack([loud, delta, prosody.voicing.astype(np.float32), relative], axis=1)


def content_features(phones: list[Phone], prosody: Prosody) -> np.ndarray:
    """(T, NUM_CONTENT_FEATURES) at the prosody's frame rate."""
    frames = len(prosody.loudness_norm)
    return np.concatenate([phone_occupancy(phones, frames, prosody.fps), prosody_features(prosody)], axis=1)
