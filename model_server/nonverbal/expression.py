"""The expression's course over time: it sets in as the speaking starts and eases off after, breathes
with the voice's arousal, marks the accents the way the emotion does, rises or falls across a segment
when the instruction says so, and never holds frozen on a long stretch.

All of it acts on the expression layer (the take less the lips layer), so the lips layer is untouched.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from ..arkit import ARKIT_INDEX, ARKIT_NAMES
from ..audio.types import Prosody
from .accents import Accent, Phrase

ONSET_S, OFFSET_S = 0.35, 0.8  # the expression sets in over ONSET_S before the first word, eases off after the last
REST_LEVEL = 0.55  # of the instruction's strength before the first word and after the last
PAUSE_LEVEL = 0.8  # in long pauses between phrases
RAMP_SPAN = 0.6  # "intensity rising": from 1 - RAMP_SPAN to 1 + RAMP_SPAN of the strength across the segment
VARIATION = 0.08  # relative wander of each channel's strength (seeded low-pass noise, 0.2 to 0.8 Hz)
EMPHASIS_RISE_S, EMPHASIS_FALL_S = 0.08, 0.35


def arousal_envelope(prosody: Prosody) -> np.ndarray:
    """(T,) the voice's arousal about its own mean: loudness and pitch height, smoothed over ~0.6 s, -1..1."""
    fps = prosody.fps
    voiced = prosody.f0 > 0
    pitch = np.zeros_like(prosody.f0)
    if voiced.sum() >= 3:
        pitch[voiced] = np.log2(prosody.f0[voiced] / np.median(prosody.f0[voiced]))
    raw = (prosody.loudness_norm - prosody.loudness_norm.mean()) * 2.0 + pitch
    smooth = gaussian_filter1d(raw, max(1.0, 0.3 * fps), mode="nearest")
    return np.clip(smooth, -1, 1)


def course(phrases: list[Phrase], segments: list[dict], ramps: list[float], num_frames: int, fps: float) -> np.ndarray:
    """(T,) the expression's strength over time, 1 = as the instruction says: onset, offset, softer in long
    pauses, and each segment's rise or fall (`ramps`: -1 falling .. +1 rising, one per segment)."""
    times = np.arange(num_frames) / fps
    if phrases:
        first, last = phrases[0].start, phrases[-1].end
        onset = np.clip((times - (first - ONSET_S)) / ONSET_S, 0, 1)
        offset = np.clip(1 - (times - last) / OFFSET_S, 0, 1)
        active = np.minimum(onset, offset)
        level = REST_LEVEL + (1 - REST_LEVEL) * active * active * (3 - 2 * active)
        for before, after in zip(phrases, phrases[1:]):
            gap = after.start - before.end
            if gap >= 1.0:  # a long pause: the expression relaxes a little and comes back
                inside = (times > before.end) & (times < after.start)
                depth = np.minimum((times - before.end) / 0.5, (after.start - times) / 0.3).clip(0, 1)
                level[inside] *= 1 - (1 - PAUSE_LEVEL) * depth[inside]
    else:
        level = np.full(num_frames, REST_LEVEL)
    for segment, ramp in zip(segments, ramps):
        if ramp == 0:
            continue
        inside = (times >= segment["start"]) & (times < segment["end"])
        where = (times[inside] - segment["start"]) / max(1e-6, segment["end"] - segment["start"])
        level[inside] *= np.clip(1 + RAMP_SPAN * ramp * (2 * where - 1), 0, None)
    return level


def emphasis(accents: list[Accent], template: dict[str, float], num_frames: int, fps: float,
             strength: np.ndarray) -> np.ndarray:
    """(T, 52) the emotion's accent marks (a frown and squint for anger, a brow raise when neutral), each
    rising in EMPHASIS_RISE_S and fading over EMPHASIS_FALL_S, scaled per frame by `strength`."""
    out = np.zeros((num_frames, len(ARKIT_NAMES)))
    times = np.arange(num_frames) / fps
    pulse = np.zeros(num_frames)
    for accent in accents:
        x = times - (accent.time - EMPHASIS_RISE_S)
        shape = np.where(x < EMPHASIS_RISE_S, np.clip(x / EMPHASIS_RISE_S, 0, 1),
                         np.exp(-np.maximum(x - EMPHASIS_RISE_S, 0) / EMPHASIS_FALL_S))  # no overflow long before
        pulse = np.maximum(pulse, accent.strength * shape * (x >= 0))
    for name, weight in template.items():
        out[:, ARKIT_INDEX[name]] = weight * pulse * strength
    return out


def variation(expression: np.ndarray, fps: float, seed: int) -> np.ndarray:
    """(T, 52) the expression with each active channel's strength wandering by ±VARIATION, deterministic per seed."""
    rng = np.random.default_rng([seed, 0xE4])
    noise = rng.standard_normal(expression.shape)
    noise = gaussian_filter1d(noise, max(1.0, 0.35 * fps), axis=0, mode="wrap")
    noise /= max(1e-9, noise.std())
    return expression * (1 + VARIATION * noise)
