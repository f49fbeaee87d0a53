"""Training-time content augmentation: human-like loud consonants in half the clips, held bilabials,
and pauses in which the face rests in its style."""

from __future__ import annotations

import numpy as np

from model_server.arkit import ARKIT_INDEX, ARKIT_NAMES
from model_server.synthesis.content_features import LOUDNESS_DELTA_SCALE, NUM_CONTENT_FEATURES, PHONE_INDEX
from model_server.synthesis.metrics import lip_aperture
from model_server.train.content_augment import (GAIN_RANGE, HOLD_EXTRA_FRAMES, LOUDNESS, LOUDNESS_DELTA,
                                              NOISE_FLOOR_LOUDNESS, PAUSE_FRAMES, add_pauses,
                                              lengthen_bilabial_hold, raise_consonant_loudness, resting_face)


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


def test_pauses_pad_speech_with_silence_in_which_each_motion_rests_in_its_style():
    content = _clip()
    motion = np.random.default_rng(1).uniform(0, 1, (30, len(ARKIT_NAMES))).astype(np.float32)
    cross = motion[::-1].copy()
    rests = [np.full(len(ARKIT_NAMES), 0.1, np.float32), np.full(len(ARKIT_NAMES), 0.2, np.float32)]
    sides = {"before": 0, "after": 0}
    for seed in range(60):
        padded, (own, other) = add_pauses(content, [motion, cross], rests, np.random.default_rng(seed))
        extra = len(padded) - len(content)
        if extra == 0:
            assert padded is content
            continue
        start = int(np.flatnonzero(padded[:, PHONE_INDEX["SIL"]] == 0)[0])  # the clip has no silence of its own
        before, after = start, extra - start
        sides["before"] += before > 0
        sides["after"] += after > 0
        for pause in (slice(0, before), slice(len(padded) - after, len(padded))):
            assert np.all(padded[pause, PHONE_INDEX["SIL"]] == 1.0)
            assert np.all(padded[pause, LOUDNESS] <= NOISE_FLOOR_LOUDNESS)
            np.testing.assert_array_equal(own[pause], np.broadcast_to(rests[0], own[pause].shape))
            np.testing.assert_array_equal(other[pause], np.broadcast_to(rests[1], other[pause].shape))
        for length in (before, after):
            assert length == 0 or PAUSE_FRAMES[0] <= length < PAUSE_FRAMES[1]
        speech = slice(before, before + len(content))
        np.testing.assert_array_equal(own[speech], motion)
        np.testing.assert_array_equal(other[speech], cross)
        untouched = [c for c in range(NUM_CONTENT_FEATURES) if c != LOUDNESS_DELTA]
        np.testing.assert_array_equal(padded[speech][:, untouched], content[:, untouched])
        loud = padded[:, LOUDNESS]
        np.testing.assert_allclose(padded[:, LOUDNESS_DELTA], np.diff(loud, prepend=loud[:1]) * LOUDNESS_DELTA_SCALE)
    assert 15 < sides["before"] < 45 and 15 < sides["after"] < 45  # each side about half the time


def test_resting_face_is_what_the_articulation_model_draws_in_a_long_pause(repo_root, tmp_path):
    import subprocess

    from model_server.agent.grammar import parse_instruction
    from model_server.audio.front_end import SpeechFrontEnd
    from model_server.audio.loading import load_audio
    from model_server.synthesis.baseline import BaselineArticulator

    paused = tmp_path / "paused.wav"  # the demo sentence, then 1.5 s of silence
    subprocess.run(["sox", str(repo_root / "assets" / "demo_speech.wav"), str(paused), "pad", "0", "1.5"], check=True)
    transcript = (repo_root / "assets" / "demo_speech.txt").read_text().strip()
    analysis = SpeechFrontEnd().analyze(load_audio(paused), transcript, 25.0)
    assert analysis.alignment.phones[-1].phone == "SIL" and analysis.alignment.phones[-1].end - analysis.alignment.phones[-1].start > 1.0
    for instruction in ("A neutral person speaks with relaxed face.",
                        "A very happy person speaks with cheeks strongly raised and lip corners pulled up."):
        controls = parse_instruction(instruction)
        drawn = BaselineArticulator().articulate(analysis, [{"start": 0.0, "end": analysis.audio.duration}], [controls],
                                                 seed=0, fps=25.0, blinks=False, take_jitter=0.0).arkit
        rest = resting_face(controls, 25.0)
        np.testing.assert_allclose(drawn[-1], rest, atol=1e-6)
        assert lip_aperture(rest[None])[0] == 0.0
        if "happy" in instruction:
            assert rest[ARKIT_INDEX["mouthSmileLeft"]] > 0.3  # the style shows in a pause
