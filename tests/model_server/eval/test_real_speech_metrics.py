"""The real-speech lip-sync figures: each would move if the lips did the wrong thing."""

from __future__ import annotations

import numpy as np
import pytest

from model_server.arkit import ARKIT_INDEX
from model_server.audio.types import Phone
from model_server.eval.metrics import (bilabial_closure, labiodental_contact, lip_jitter, open_vowel_opening,
                                       phones_recovered, rounding_by_phone, word_errors)

FPS = 25.0
_I = ARKIT_INDEX


def motion(frames: int, jaw: float = 0.5) -> np.ndarray:
    out = np.zeros((frames, 52))
    out[:, _I["jawOpen"]] = jaw
    return out


PHONES = [Phone("AA", 0.0, 0.4), Phone("P", 0.4, 0.44), Phone("AA", 0.44, 0.8), Phone("M", 0.8, 0.82),
          Phone("AA", 0.82, 1.2)]


def test_closure_counts_only_bilabials_whose_lips_meet_and_can_skip_short_ones():
    arkit = motion(30)
    assert bilabial_closure(arkit, PHONES, FPS) == (0, 2)
    arkit[10, _I["mouthClose"]] = 0.5  # the /p/'s frame: mouthClose cancels the jaw, lips touch
    assert bilabial_closure(arkit, PHONES, FPS) == (1, 2)
    assert bilabial_closure(arkit, PHONES, FPS, min_seconds=0.03) == (1, 1)  # the 20 ms /m/ is left out


def test_labiodental_contact_needs_the_lower_lip_tucked_and_the_lips_nearly_shut():
    phones = [Phone("AA", 0.0, 0.4), Phone("F", 0.4, 0.52), Phone("AA", 0.52, 1.0)]
    arkit = motion(25)
    arkit[11, _I["mouthRollLower"]] = 0.5
    assert labiodental_contact(arkit, phones, FPS) == (0, 1)  # tucked, but the jaw is wide open
    arkit[11, _I["mouthClose"]] = 0.4
    assert labiodental_contact(arkit, phones, FPS) == (1, 1)


def test_rounding_separates_rounded_from_spread_phones():
    phones = [Phone("UW", 0.0, 0.4), Phone("IY", 0.4, 0.8)]
    arkit = motion(20)
    arkit[:10, _I["mouthPucker"]] = 0.7
    rounded, spread = rounding_by_phone(arkit, phones, FPS)
    assert rounded == [pytest.approx(0.7)] and spread == [pytest.approx(0.0)]


def test_open_vowel_opening_is_each_vowels_widest_aperture():
    arkit = motion(30, jaw=0.2)
    arkit[5, _I["jawOpen"]] = 0.9
    assert open_vowel_opening(arkit, PHONES, FPS)[0] == pytest.approx(0.9)


def test_jitter_grows_with_frame_to_frame_chatter_and_not_with_frame_rate():
    t60, t25 = np.arange(120) / 60, np.arange(50) / 25
    phones = [Phone("AA", 0.0, 2.0)]

    def smooth(t):
        arkit = np.zeros((len(t), 52))
        arkit[:, _I["jawOpen"]] = 0.4 + 0.3 * np.sin(2 * np.pi * t)
        return arkit

    assert lip_jitter(smooth(t60), phones, 60) == pytest.approx(lip_jitter(smooth(t25), phones, 25), rel=0.1)
    chatter = smooth(t25)
    chatter[::2, _I["jawOpen"]] += 0.1
    assert lip_jitter(chatter, phones, 25) > 3 * lip_jitter(smooth(t25), phones, 25)


def test_word_errors_count_substitutions_insertions_and_deletions():
    ref = "please press one to mute".split()
    assert word_errors(ref, ref) == 0
    assert word_errors(ref, "please dress one to mute".split()) == 1
    assert word_errors(ref, "please press to mute now".split()) == 2
    assert word_errors(ref, []) == 5


def test_phones_recovered_needs_the_same_phone_at_the_same_time():
    reference = [Phone("SIL", 0, 0.1), Phone("P", 0.1, 0.2), Phone("AA", 0.2, 0.4)]
    assert phones_recovered(reference, reference) == (2, 2)
    shifted = [Phone("P", 0.16, 0.32), Phone("AA", 0.32, 0.5)]
    assert phones_recovered(reference, shifted) == (0, 2)
