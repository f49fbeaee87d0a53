"""A segment's prosody in words and numbers, for instruction agents that read text (a language model)."""

from __future__ import annotations

import numpy as np

from ..audio.types import SpeechSegment
from .baseline import TYPICAL_F0_HZ, TYPICAL_F0_RANGE_ST, TYPICAL_LOUDNESS_DBFS, TYPICAL_RATE


def _level(value: float, typical: float, spread: float, low: str, high: str) -> str:
    z = (value - typical) / spread
    if abs(z) < 0.5:
        return "typical"
    degree = "very " if abs(z) > 1.5 else ""
    return degree + (high if z > 0 else low)


def prosody_summary(segment: SpeechSegment) -> str:
    """e.g. "speaking rate fast (14.2 phones/s; typical 11), loudness loud (-17 dBFS; typical -24), …"."""
    parts = []
    if segment.speaking_rate > 0:
        parts.append(f"speaking rate {_level(segment.speaking_rate, TYPICAL_RATE, 3.0, 'slow', 'fast')} "
                     f"({segment.speaking_rate:.1f} phones/s; typical {TYPICAL_RATE:g})")
    parts.append(f"loudness {_level(segment.mean_loudness, TYPICAL_LOUDNESS_DBFS, 6.0, 'soft', 'loud')} "
                 f"({segment.mean_loudness:.0f} dBFS; typical {TYPICAL_LOUDNESS_DBFS:g})")
    if segment.mean_f0 > 0:
        semitones = 12 * np.log2(segment.mean_f0 / TYPICAL_F0_HZ)
        parts.append(f"pitch {_level(semitones, 0.0, 6.0, 'low', 'high')} ({segment.mean_f0:.0f} Hz)")
        parts.append(f"pitch range {_level(segment.f0_range, TYPICAL_F0_RANGE_ST, 3.0, 'narrow', 'wide')} "
                     f"({segment.f0_range:.1f} semitones; typical {TYPICAL_F0_RANGE_ST:g})")
    return ", ".join(parts)
