"""Evaluation metrics: properties that fail if a metric measures the wrong thing."""

from __future__ import annotations

import numpy as np
import pytest

from model_server.arkit import ARKIT_INDEX
from model_server.audio.front_end import SpeechFrontEnd
from model_server.audio.loading import load_audio
from model_server.eval.emotion_classifier import EmotionClassifier, motion_features
from model_server.eval.geometry import reference_head_geometry, load_flame_geometry
from model_server.eval.metrics import (BILABIALS, OPEN_VOWELS, bilabial_closure_rate, channel_correlation,
                                       lip_vertex_error, mean_jaw_opening, retrieval_top1, same_label_top1,
                                       speech_lip_correlation, style_diversity, upper_face_difference,
                                       upper_face_dynamics_deviation, without_blinks)
from model_server.synthesis.baseline import BaselineArticulator

FPS = 25.0
NEUTRAL = "A neutral person speaks with relaxed face."
BROWS = ("browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight")


@pytest.fixture(scope="module")
def geometries():
    return {"demo": reference_head_geometry(), "flame": load_flame_geometry()}


@pytest.fixture(scope="module")
def demo_speech(repo_root):
    """Real analysis of the demo line, "Please bring me the map ...": eleven /p b m/."""
    transcript = (repo_root / "assets" / "demo_speech.txt").read_text().strip()
    return SpeechFrontEnd().analyze(load_audio(repo_root / "assets" / "demo_speech.wav"), transcript, FPS)


def speech_motion(frames: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(frames)[:, None] / FPS
    return np.clip(0.3 + 0.25 * np.sin(2 * np.pi * rng.uniform(0.5, 4, 52) * t + rng.uniform(0, 6, 52)), 0, 1)


@pytest.mark.parametrize("name", ["demo", "flame"])
def test_lve_is_zero_for_identical_motion_and_grows_with_jaw_difference(geometries, name):
    g = geometries[name]
    truth = speech_motion(40)
    assert lip_vertex_error(g, truth, truth) == pytest.approx(0.0, abs=1e-18)
    errors = []
    for delta in (0.05, 0.1, 0.2, 0.4):
        moved = truth.copy()
        moved[:, ARKIT_INDEX["jawOpen"]] += delta
        errors.append(lip_vertex_error(g, moved, truth))
    assert all(a < b for a, b in zip(errors, errors[1:]))
    assert errors[-1] * 1e6 > 10  # a 0.4 jawOpen difference is well over 10 mm² (3 mm or more)


@pytest.mark.parametrize("name", ["demo", "flame"])
def test_brow_motion_leaves_lips_alone_but_shows_in_fdd(geometries, name):
    g = geometries[name]
    truth = speech_motion(40)
    browed = truth.copy()
    t = np.arange(40) / FPS
    for brow in BROWS:
        browed[:, ARKIT_INDEX[brow]] = 0.5 + 0.5 * np.sin(2 * np.pi * 2 * t)
    jaw = truth.copy()
    jaw[:, ARKIT_INDEX["jawOpen"]] += 0.2
    # Exactly zero on the reference head; through the FLAME fit a few hundredths of a mm² leak at most.
    assert lip_vertex_error(g, browed, truth) < 1e-3 * lip_vertex_error(g, jaw, truth)
    fdd = upper_face_dynamics_deviation(g, browed, truth)
    assert fdd > 1e-6  # brows moving more than the truth's: positive (about 0.05 mm averaged over the region)
    assert abs(upper_face_dynamics_deviation(g, jaw, truth)) < 0.05 * fdd  # the jaw does not reach the brows
    assert upper_face_dynamics_deviation(g, truth, browed) == pytest.approx(-fdd)
    assert upper_face_dynamics_deviation(g, truth, truth) == 0.0


def test_brows_move_no_demo_head_lip_vertex_at_all(geometries):
    g = geometries["demo"]
    truth = np.zeros((3, 52))
    browed = truth.copy()
    browed[:, [ARKIT_INDEX[b] for b in BROWS]] = 1.0
    assert lip_vertex_error(g, browed, truth) < 1e-20


def test_baseline_closes_the_lips_at_every_bilabial_and_open_jaw_never_does(demo_speech):
    phones = demo_speech.alignment.phones
    segments = [{"start": 0.0, "end": demo_speech.audio.duration, "instruction": NEUTRAL}]
    motion = BaselineArticulator().synthesize(demo_speech, segments, seed=0, fps=FPS).arkit
    assert sum(p.phone in BILABIALS for p in phones) >= 5
    assert bilabial_closure_rate(motion, phones, FPS) == 1.0
    held_open = np.zeros_like(motion)
    held_open[:, ARKIT_INDEX["jawOpen"]] = 0.5
    assert bilabial_closure_rate(held_open, phones, FPS) == 0.0
    assert mean_jaw_opening(motion, phones, FPS, OPEN_VOWELS) > 2 * mean_jaw_opening(motion, phones, FPS, BILABIALS)


def test_closure_without_open_vowels_is_judged_against_the_speech_not_the_pauses():
    # "em" between long pauses: EH opens to 0.4, the /m/ comes down to 0.02, silence rests at 0.
    phones = [["SIL", 0.0, 0.8], ["EH", 0.8, 1.0], ["M", 1.0, 1.28], ["SIL", 1.28, 2.0]]
    motion = np.zeros((50, 52))
    motion[20:25, ARKIT_INDEX["jawOpen"]] = 0.4
    motion[25:32, ARKIT_INDEX["jawOpen"]] = 0.02
    assert bilabial_closure_rate(motion, phones, FPS) == 1.0
    motion[25:32, ARKIT_INDEX["jawOpen"]] = 0.15  # lips visibly apart through the /m/
    assert bilabial_closure_rate(motion, phones, FPS) == 0.0


def test_closure_rate_is_undefined_without_bilabials():
    assert np.isnan(bilabial_closure_rate(np.zeros((10, 52)), [["F", 0.0, 0.2], ["AA", 0.2, 0.3]], FPS))


def test_slcc_is_high_when_the_jaw_follows_loudness_and_low_when_it_fights_it(demo_speech):
    prosody, phones = demo_speech.prosody, demo_speech.alignment.phones
    follows = np.zeros((len(prosody.loudness), 52))
    follows[:, ARKIT_INDEX["jawOpen"]] = prosody.loudness_norm
    assert speech_lip_correlation(follows, prosody.loudness, phones, FPS) > 0.9
    fights = np.zeros_like(follows)
    fights[:, ARKIT_INDEX["jawOpen"]] = 1.0 - prosody.loudness_norm
    assert speech_lip_correlation(fights, prosody.loudness, phones, FPS) < -0.5


def test_classifier_beats_chance_on_separable_motion():
    rng = np.random.default_rng(0)
    marks = {"happy": "mouthSmileLeft", "angry": "browDownLeft", "sad": "mouthFrownLeft"}

    def sample(label):
        m = np.clip(0.2 + 0.1 * rng.standard_normal((50, 52)), 0, 1)
        m[:, ARKIT_INDEX[marks[label]]] += 0.3
        return m

    train_labels = [label for label in marks for _ in range(20)]
    test_labels = [label for label in marks for _ in range(10)]
    classifier = EmotionClassifier.fit([sample(label) for label in train_labels], train_labels)
    assert classifier.accuracy([sample(label) for label in test_labels], test_labels) > 0.9  # chance: 1/3


def test_classifier_features_leave_out_blinks():
    motion = speech_motion(30)
    blinked = motion.copy()
    blinked[::10, ARKIT_INDEX["eyeBlinkLeft"]] = 1.0
    np.testing.assert_array_equal(motion_features(motion), motion_features(blinked))
    assert without_blinks(blinked)[:, ARKIT_INDEX["eyeBlinkLeft"]].max() == 0.0


def test_retrieval_is_perfect_for_identical_sets_and_zero_for_a_shifted_gallery():
    rng = np.random.default_rng(0)
    codes = rng.standard_normal((12, 16))
    codes /= np.linalg.norm(codes, axis=1, keepdims=True)
    assert retrieval_top1(codes, codes) == 1.0
    assert retrieval_top1(codes, np.roll(codes, 1, axis=0)) == 0.0
    labels = ["a", "b", "c"] * 4
    assert same_label_top1(codes, codes, labels) == 1.0
    assert same_label_top1(codes, np.roll(codes, 3, axis=0), labels) == 1.0  # a shift by 3 keeps the label


def test_disentanglement_measures():
    motion = speech_motion(60)
    other = motion.copy()
    other[:, ARKIT_INDEX["browDownLeft"]] += 0.3
    other[:, ARKIT_INDEX["jawOpen"]] *= 1.5  # a wider style: same timing
    assert channel_correlation(motion, other, "jawOpen") == pytest.approx(1.0)
    assert channel_correlation(motion, motion[::-1], "jawOpen") < 0.9
    assert upper_face_difference(motion, motion) == 0.0
    # One of 22 upper-face channels: 12 eye (blinks left out), 5 brow, 3 cheek, 2 nose.
    assert upper_face_difference(motion, other) == pytest.approx(0.3 / 22)
    blinked = motion.copy()
    blinked[:, ARKIT_INDEX["eyeBlinkRight"]] = 1.0
    assert upper_face_difference(motion, blinked) == 0.0


def test_style_diversity():
    assert style_diversity(np.ones((10, 8))) == 0.0
    assert style_diversity(np.array([[0.0, 0.0], [3.0, 4.0]])) == pytest.approx(5.0)
