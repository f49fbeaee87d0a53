"""Timing by dynamic time warping: the text spoken by eSpeak NG, warped onto the recording.

The method of the aeneas aligner: MFCCs of the synthetic speech and of the recording, the cheapest
monotonic path between them, and each synthetic phoneme's times carried along that path. It needs no
recogniser, so it works in any language eSpeak speaks; it is only as good as the synthetic voice is
like the speaker.
"""

from __future__ import annotations

import numpy as np

from .types import SAMPLE_RATE

HOP_SECONDS = 0.01
WINDOW_SECONDS = 0.025
MEL_BANDS, CEPSTRA = 26, 13
MAX_CELLS = 40_000_000  # cost-matrix cells (float32) before frames are pooled; ~160 MB
SILENCE_BELOW_PEAK_DB = 35.0


def mfcc(samples: np.ndarray, rate: int = SAMPLE_RATE) -> np.ndarray:
    """(frames, CEPSTRA - 1) cepstra without c0, each coefficient normalised over the clip."""
    window, hop = int(WINDOW_SECONDS * rate), int(HOP_SECONDS * rate)
    if len(samples) < window:
        samples = np.pad(samples, (0, window - len(samples)))
    count = 1 + (len(samples) - window) // hop
    frames = np.lib.stride_tricks.sliding_window_view(samples, window)[::hop][:count] * np.hamming(window)
    fft = 1 << (window - 1).bit_length()
    power = np.abs(np.fft.rfft(frames, fft)) ** 2
    log_mel = np.log(power @ _mel_filters(rate, fft).T + 1e-10)
    k = np.arange(MEL_BANDS)
    dct = np.cos(np.pi / MEL_BANDS * (k + 0.5)[None, :] * np.arange(1, CEPSTRA)[:, None])
    cepstra = log_mel @ dct.T
    return ((cepstra - cepstra.mean(0)) / (cepstra.std(0) + 1e-6)).astype(np.float32)


def _mel_filters(rate: int, fft: int) -> np.ndarray:
    mel = lambda hz: 2595 * np.log10(1 + hz / 700)  # noqa: E731
    edges_hz = 700 * (10 ** (np.linspace(mel(60), mel(rate / 2), MEL_BANDS + 2) / 2595) - 1)
    bins = np.fft.rfftfreq(fft, 1 / rate)
    filters = np.zeros((MEL_BANDS, len(bins)))
    for m in range(MEL_BANDS):
        low, centre, high = edges_hz[m:m + 3]
        filters[m] = np.clip(np.minimum((bins - low) / (centre - low), (high - bins) / (high - centre)), 0, None)
    return filters


def speech_span(samples: np.ndarray, rate: int = SAMPLE_RATE) -> tuple[float, float]:
    """(start, end) seconds of the part louder than the clip's peak less SILENCE_BELOW_PEAK_DB."""
    hop = int(HOP_SECONDS * rate)
    frames = samples[: len(samples) // hop * hop].reshape(-1, hop)
    if not len(frames):
        return 0.0, len(samples) / rate
    level = 10 * np.log10((frames ** 2).mean(1) + 1e-12)
    loud = np.flatnonzero(level > level.max() - SILENCE_BELOW_PEAK_DB)
    return loud[0] * HOP_SECONDS, (loud[-1] + 1) * HOP_SECONDS


def warp_path(reference: np.ndarray, query: np.ndarray) -> np.ndarray:
    """For each reference frame, the mean query frame the cheapest monotonic path pairs it with."""
    cost = _distances(reference, query)
    n, m = cost.shape
    total = np.empty_like(cost)
    total[0] = np.cumsum(cost[0])
    for i in range(1, n):
        # total[i, j] = cost[i, j] + min(total[i-1, j], total[i-1, j-1], total[i, j-1]); the last term is a
        # running minimum: with S the row's cumulative cost, total[i] = S + min-accumulate(a - S).
        diagonal = np.concatenate(([np.inf], total[i - 1, :-1]))
        entry = cost[i] + np.minimum(total[i - 1], diagonal)
        running = np.cumsum(cost[i])
        total[i] = running + np.minimum.accumulate(entry - running)
    pairs = np.zeros(n)
    counts = np.zeros(n)
    i, j = n - 1, m - 1
    while True:
        pairs[i] += j
        counts[i] += 1
        if i == 0 and j == 0:
            break
        steps = [(i - 1, j - 1), (i - 1, j), (i, j - 1)]
        i, j = min((s for s in steps if s[0] >= 0 and s[1] >= 0), key=lambda s: total[s])
    return pairs / counts


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    squared = (a ** 2).sum(1)[:, None] + (b ** 2).sum(1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.maximum(squared, 0)).astype(np.float32)


def synthetic_to_recording(synthetic: np.ndarray, synthetic_rate: int, recording: np.ndarray):
    """A function: seconds in the synthetic speech → seconds in the recording (monotonic)."""
    from .loading import resample

    start, end = speech_span(recording)
    spoken = recording[int(start * SAMPLE_RATE):int(end * SAMPLE_RATE)]
    synthetic = resample(synthetic, synthetic_rate) if synthetic_rate != SAMPLE_RATE else synthetic
    reference, query = mfcc(synthetic), mfcc(spoken)
    pool = max(1, int(np.ceil(np.sqrt(len(reference) * len(query) / MAX_CELLS))))
    if pool > 1:  # long clips: average frames in groups so the cost matrix stays in memory
        reference, query = _pooled(reference, pool), _pooled(query, pool)
    mapped = warp_path(reference, query) * pool * HOP_SECONDS + start
    times = (np.arange(len(mapped)) * pool + pool / 2) * HOP_SECONDS
    return lambda t: float(np.interp(t, times, mapped))


def _pooled(frames: np.ndarray, size: int) -> np.ndarray:
    count = len(frames) // size
    return frames[: count * size].reshape(count, size, -1).mean(1) if count else frames[:1]
