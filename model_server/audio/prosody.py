"""Per-frame prosody at the animation frame rate: pitch (YIN), voicing, loudness."""

from __future__ import annotations

import numpy as np

from ..curves import num_frames_for
from .types import SAMPLE_RATE, Audio, Prosody, SpeechAnalysis

WINDOW_SECONDS = 0.05  # two periods of a 40 Hz voice: enough for the lowest pitch we track
F0_MIN, F0_MAX = 60.0, 500.0
YIN_THRESHOLD = 0.2
SILENCE_DBFS = -90.0
VOICING_FLOOR_DBFS = -50.0  # quieter frames are never called voiced


def analyze_prosody(audio: Audio, fps: float) -> Prosody:
    frames = _frames(audio.samples, num_frames_for(audio.duration, fps), fps)  # (T, window)
    loudness = _loudness_dbfs(frames)
    f0, voicing = _yin(frames)
    quiet = loudness < VOICING_FLOOR_DBFS
    f0[quiet], voicing[quiet] = 0.0, 0.0
    return Prosody(fps=fps, f0=f0, voicing=voicing, loudness=loudness, loudness_norm=normalize_loudness(loudness))


def prosody_at(analysis: SpeechAnalysis, fps: float) -> Prosody:
    """The analysis's prosody at `fps`: as it is when already at that rate, else measured again."""
    if abs(analysis.prosody.fps - fps) < 1e-9:
        return analysis.prosody
    return analyze_prosody(analysis.audio, fps)


def _frames(samples: np.ndarray, count: int, fps: float) -> np.ndarray:
    """Windows centred on t = i / fps (zero-padded at the ends)."""
    window = int(WINDOW_SECONDS * SAMPLE_RATE)
    padded = np.pad(samples.astype(np.float64), (window // 2, window))
    starts = np.round(np.arange(count) * SAMPLE_RATE / fps).astype(np.int64)
    return padded[starts[:, None] + np.arange(window)[None, :]]


def _loudness_dbfs(frames: np.ndarray) -> np.ndarray:
    rms = np.sqrt(np.mean(frames**2, axis=1))
    return np.maximum(20 * np.log10(np.maximum(rms, 1e-12)), SILENCE_DBFS)


def _yin(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """YIN (de Cheveigné & Kawahara 2002), vectorised over frames: f0 in Hz and a 0..1 voicing."""
    count, window = frames.shape
    frames = frames - frames.mean(axis=1, keepdims=True)
    tau_max = int(SAMPLE_RATE / F0_MIN)
    tau_min = int(SAMPLE_RATE / F0_MAX)
    size = 1 << int(np.ceil(np.log2(2 * window)))
    spectrum = np.fft.rfft(frames, size, axis=1)
    autocorr = np.fft.irfft(spectrum * np.conj(spectrum), size, axis=1)[:, : tau_max + 1]
    energy = np.cumsum(frames**2, axis=1)
    # d(tau) = sum x_j^2 + sum x_{j+tau}^2 - 2 r(tau), over the overlapping part of the window.
    taus = np.arange(tau_max + 1)
    head = energy[:, window - 1 - taus]
    tail = energy[:, -1:] - np.concatenate([np.zeros((count, 1)), energy[:, taus[1:] - 1]], axis=1)
    diff = np.maximum(head + tail - 2 * autocorr, 0.0)
    cumulative = np.cumsum(diff[:, 1:], axis=1)
    cmnd = np.ones_like(diff)
    cmnd[:, 1:] = diff[:, 1:] * taus[1:] / np.maximum(cumulative, 1e-12)
    search = cmnd[:, tau_min:]
    below = search < YIN_THRESHOLD
    # First dip under the threshold (then its local minimum), else the global minimum.
    first = np.where(below.any(axis=1), below.argmax(axis=1), search.argmin(axis=1))
    best = first.copy()
    for _ in range(search.shape[1]):  # walk down to the bottom of the dip
        nxt = np.minimum(best + 1, search.shape[1] - 1)
        step = search[np.arange(count), nxt] < search[np.arange(count), best]
        if not step.any():
            break
        best = np.where(step, nxt, best)
    tau = best + tau_min
    depth = search[np.arange(count), best]
    # Parabolic interpolation for sub-sample period.
    left = cmnd[np.arange(count), np.maximum(tau - 1, 1)]
    right = cmnd[np.arange(count), np.minimum(tau + 1, tau_max)]
    denom = left - 2 * depth + right
    shift = np.where(np.abs(denom) > 1e-12, 0.5 * (left - right) / np.where(denom == 0, 1, denom), 0.0)
    period = tau + np.clip(shift, -1, 1)
    voicing = np.clip(1.0 - depth, 0.0, 1.0)
    voiced = depth < YIN_THRESHOLD
    f0 = np.where(voiced, SAMPLE_RATE / period, 0.0)
    voicing = np.where(voiced, voicing, voicing * 0.5)
    return f0, voicing


def normalize_loudness(loudness: np.ndarray) -> np.ndarray:
    """0 at the clip's noise floor, 1 at its loud speech: robust percentiles, not min/max."""
    ceiling = np.percentile(loudness, 98)
    floor = max(np.percentile(loudness, 5), ceiling - 45.0)
    if ceiling - floor < 1e-6:
        return np.zeros_like(loudness)
    return np.clip((loudness - floor) / (ceiling - floor), 0.0, 1.0)
