"""Consonant loudness augmentation: human-like loud consonants in half the clips, nothing else touched."""

from __future__ import annotations

import numpy as np

from model_server.synthesis.content_features import LOUDNESS_DELTA_SCALE, NUM_CONTENT_FEATURES, PHONE_INDEX
from model_server.train.content_augment import GAIN_RANGE, LOUDNESS, LOUDNESS_DELTA, raise_consonant_loudness


def _clip() -> np.ndarray:
    """/AA M AA/: loud vowels around a quiet /m/, as espeak-ng says it."""
    content = np.zeros((30, NUM_CONTENT_FEATURES), np.float32)
    content[:, PHONE_INDEX["AA"]] = 1.0
    content[12:18, PHONE_INDEX["AA"]] = 0.0
    content[12:18, PHONE_INDEX["M"]] = 1.0
    content[:, LOUDNESS] = np.where(content[:, PHONE_INDEX["M"]] > 0, 0.2, 0.9)
    return content


def test_raises_consonants_towards_their_vowels_in_about_half_the_clips():
    batch = np.stack([_clip()] * 200)
    out = raise_consonant_loudness(batch, np.random.default_rng(0))
    np.testing.assert_array_equal(batch, np.stack([_clip()] * 200))  # the input is left alone
    nasal = out[:, 12:18, LOUDNESS]
    raised = nasal.min(axis=1) > 0.2 + 1e-6
    assert 0.35 < raised.mean() < 0.65
    assert np.all(nasal[raised] >= GAIN_RANGE[0] * 0.9 - 1e-6) and np.all(nasal[raised] <= GAIN_RANGE[1] * 0.9 + 1e-6)
    np.testing.assert_array_equal(out[~raised], batch[~raised])
    vowels = np.r_[0:12, 18:30]
    np.testing.assert_array_equal(out[:, vowels, LOUDNESS], batch[:, vowels, LOUDNESS])
    phones = [c for c in range(NUM_CONTENT_FEATURES) if c not in (LOUDNESS, LOUDNESS_DELTA)]
    np.testing.assert_array_equal(out[..., phones], batch[..., phones])
    loud = out[raised][0, :, LOUDNESS]
    np.testing.assert_allclose(out[raised][0, :, LOUDNESS_DELTA], np.diff(loud, prepend=loud[:1]) * LOUDNESS_DELTA_SCALE)
