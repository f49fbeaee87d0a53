"""Consonant loudness augmentation: human-like loud consonants in half the clips, nothing else touched."""

from __future__ import annotations

import numpy as np

from model_server.arkit import ARKIT_INDEX, ARKIT_NAMES
from model_server.synthesis.content_features import LOUDNESS_DELTA_SCALE, NUM_CONTENT_FEATURES, PHONE_INDEX
from model_server.synthesis.metrics import lip_aperture
from model_server.train.content_augment import (GAIN_RANGE, HOLD_EXTRA_FRAMES, LOUDNESS, LOUDNESS_DELTA,
                                              lengthen_bilabial_hold, raise_consonant_loudness)


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


def _closing_motion(content: np.ndarray) -> np.ndarray:
    """Jaw open on the vowels, lips shut on the /m/ frames."""
    motion = np.zeros((len(content), len(ARKIT_NAMES)), np.float32)
    motion[:, ARKIT_INDEX["jawOpen"]] = np.where(content[:, PHONE_INDEX["M"]] > 0, 0.0, 0.5)
    return motion


def test_lengthens_a_closed_bilabial_in_speech_and_motion_together():
    content = _clip()
    motion = _closing_motion(content)
    grown = 0
    for seed in range(40):
        longer, (own, cross) = lengthen_bilabial_hold(content, [motion, motion.copy()], np.random.default_rng(seed))
        extra = len(longer) - len(content)
        assert len(own) == len(cross) == len(longer)
        if extra == 0:
            np.testing.assert_array_equal(longer, content)
            continue
        grown += 1
        assert HOLD_EXTRA_FRAMES[0] <= extra < HOLD_EXTRA_FRAMES[1]
        hold = longer[:, PHONE_INDEX["M"]] > 0
        assert hold.sum() == 6 + extra  # only the /m/ grew, in one piece
        assert np.all(np.diff(np.flatnonzero(hold)) == 1)
        assert np.all(lip_aperture(own[hold]) == 0)  # closed all along
        np.testing.assert_array_equal(own, cross)
        np.testing.assert_array_equal(longer[hold, LOUDNESS_DELTA][1:], 0.0)  # steady loudness inside the hold
    assert 0.5 < grown / 40 < 0.9


def test_leaves_clips_whose_lips_never_close_alone():
    content = _clip()
    open_lips = _closing_motion(content)
    open_lips[:, :] = 0.0
    open_lips[:, ARKIT_INDEX["jawOpen"]] = 0.5  # open everywhere: no closed frame to repeat
    for seed in range(10):
        longer, (own,) = lengthen_bilabial_hold(content, [open_lips], np.random.default_rng(seed))
        assert len(longer) == len(content) and len(own) == len(open_lips)
