"""The learned stage 2 speaks with the rules' lips: on a real voice they are the baseline's to the last bit,
and takes of one instruction differ in the face, head and eyes while their lips stay the same."""

from __future__ import annotations

import numpy as np

from model_server.arkit import ARKIT_INDEX
from model_server.audio.loading import load_audio
from model_server.audio.types import Phone
from model_server.eval.metrics import (bilabial_closure, labiodental_contact, lip_jitter, open_vowel_opening,
                                       rounding_by_phone)
from model_server.synthesis.rule_lips import LIP_CHANNELS

ANGRY = "A very angry person speaks with brow strongly lowered, eyes fairly narrowed, and lips quite pressed."
BLINKS = (ARKIT_INDEX["eyeBlinkLeft"], ARKIT_INDEX["eyeBlinkRight"])
EXPRESSION = [i for i in range(52) if i not in LIP_CHANNELS and i not in BLINKS]


def weights(document: dict) -> np.ndarray:
    return np.asarray(document["arkit"]["weights"])


def lips(document: dict) -> np.ndarray:
    return np.asarray(document["arkit"]["layers"]["lips"])[:, LIP_CHANNELS]


def test_the_learned_takes_play_the_baselines_lips_and_vary_the_rest(pipeline, asterisk_recording):
    path, transcript = asterisk_recording("conf-adminmenu-162")  # "Please press 1 to mute or unmute yourself, 2 …"
    audio = load_audio(path)
    request = dict(transcript=transcript, instruction=ANGRY, seed=5, fps=30.0, layers=True)
    baseline = pipeline.takes(audio, synthesis="baseline", **request)[0]
    first, second = pipeline.takes(audio, synthesis="learned", samples=2, **request)
    assert first["model"]["synthesis"]["lips"].startswith("rules")
    # Take 1 plays the baseline's lips to the last digit; every take speaks with the same lips layer (what the
    # instruction adds to the mouth, a pressed or wider mouth, wanders with the rest of the expression).
    np.testing.assert_array_equal(weights(first)[:, LIP_CHANNELS], weights(baseline)[:, LIP_CHANNELS])
    for take in (first, second):
        np.testing.assert_array_equal(lips(take), lips(baseline))
    # What is learned is the rest: the expression differs from the rules' and from take to take.
    assert np.abs(weights(first)[:, EXPRESSION] - weights(baseline)[:, EXPRESSION]).mean() > 0.01
    assert np.abs(weights(first)[:, EXPRESSION] - weights(second)[:, EXPRESSION]).mean() > 0.005
    head = lambda take: np.asarray(take["head"]["rotation"])  # noqa: E731
    assert np.abs(head(first) - head(second)).max() > 0.005  # each take moves its own head


def test_the_lip_figures_read_nothing_but_the_lip_channels():
    """Two faces that differ everywhere but in LIP_CHANNELS score the same on every lip figure."""
    rng = np.random.default_rng(0)
    phones = [Phone(label, 0.1 * i, 0.1 * (i + 1)) for i, label in enumerate("SIL M AA F UW IY B AE V OW P SIL".split())]
    face = rng.uniform(0, 1, (40, 52))
    other = face.copy()
    other[:, EXPRESSION + list(BLINKS)] = rng.uniform(0, 1, (40, len(EXPRESSION) + 2))
    for figure in (bilabial_closure, labiodental_contact, rounding_by_phone, open_vowel_opening, lip_jitter):
        assert figure(face, phones, 25.0) == figure(other, phones, 25.0), figure.__name__
