"""Per-frame speech input of the learned agent: what was said and how loud and high it was said.

Unlike the synthesizer's content features (content_features.py), which are made relative to the clip
so that emotion cannot leak into the lips, these keep the absolute levels: a loud, high, fast voice
and a soft, low, slow one must look different here, since telling them apart is the agent's job.
"""

from __future__ import annotations

import numpy as np

from ..audio.types import Phone, Prosody
from ..synthesis.content_features import PHONES, phone_occupancy

REFERENCE_F0_HZ = 150.0  # between typical male and female voices
REFERENCE_LOUDNESS_DBFS = -30.0
PROSODY_CHANNELS = ("loudness", "loudness_delta", "voicing", "f0_level", "f0_delta")
NUM_AGENT_FEATURES = len(PHONES) + len(PROSODY_CHANNELS)


def agent_speech_features(phones: list[Phone], prosody: Prosody) -> np.ndarray:
    """(T, NUM_AGENT_FEATURES) phone occupancy, then loudness (10 dB units around -30 dBFS) and its change,
    voicing, f0 in half-octaves around 150 Hz (0 where unvoiced) and its change between voiced frames."""
    frames = len(prosody.loudness)
    loud = np.clip((prosody.loudness - REFERENCE_LOUDNESS_DBFS) / 10.0, -4.0, 3.0)
    voiced = prosody.f0 > 0
    level = np.where(voiced, 12 * np.log2(np.maximum(prosody.f0, 1.0) / REFERENCE_F0_HZ) / 6.0, 0.0)
    change = np.diff(level, prepend=level[:1])
    change[~(voiced & np.roll(voiced, 1))] = 0.0  # no pitch jump into or out of silence
    channels = np.stack([loud, np.diff(loud, prepend=loud[:1]), prosody.voicing, level, change], axis=1)
    return np.concatenate([phone_occupancy(phones, frames, prosody.fps), channels], axis=1).astype(np.float32)
