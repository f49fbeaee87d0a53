"""A face that is alive, on real recordings through the real pipeline: the head moves with the voice and
stops when asked, the eyes saccade and come back, the expression moves within a segment, the layers
still add up, and none of it moves the lips."""

from __future__ import annotations

import numpy as np
import pytest

from model_server.arkit import ARKIT_INDEX
from model_server.audio.loading import load_audio
from model_server.curves import LAYERS, validate_curves
from model_server.errors import InputError
from model_server.eval.evaluate_nonverbal import SHIFTS, near, prosodic_events, velocity_extrema
from model_server.eval.evaluate_real_speech import score_motion
from model_server.eval.metrics import without_blinks
from model_server.nonverbal.compose import GazeTarget, NonverbalOptions

# "Please press 1 to mute or unmute yourself, 2 to lock or unlock the conference, …, or 8 to exit." (14 s)
LONG_LINE = "conf-adminmenu-162"
CALM = "A neutral person speaks with relaxed face."
AROUSED = "A very angry person speaks with brow strongly lowered, eyes fairly narrowed, and speaking energy strongly high."
STILL = "A very angry person speaks with brow strongly lowered and head held still."


@pytest.fixture(scope="module")
def line(asterisk_recording):
    path, transcript = asterisk_recording(LONG_LINE)
    return load_audio(path), transcript


def take(pipeline, line, instruction, **options) -> dict:
    audio, transcript = line
    return pipeline(audio, transcript=transcript, instruction=instruction, **options)


def head_degrees(document: dict) -> np.ndarray:
    return np.degrees(np.array(document["head"]["rotation"]))


@pytest.mark.parametrize("synthesis", ["baseline", "learned"])
def test_head_held_still_and_amount_zero_give_no_head_motion_and_keep_blinks(pipeline, line, synthesis):
    moving = take(pipeline, line, AROUSED, synthesis=synthesis)
    for still in (take(pipeline, line, STILL, synthesis=synthesis),
                  take(pipeline, line, AROUSED, synthesis=synthesis, nonverbal=NonverbalOptions(head_motion=0.0))):
        assert np.all(np.array(still["head"]["rotation"]) == 0) and np.all(np.array(still["head"]["translation"]) == 0)
        assert np.all(np.array(still["flame"]["neck"]) == 0)
        blink = np.array(still["arkit"]["weights"])[:, ARKIT_INDEX["eyeBlinkLeft"]]
        assert blink.max() > 0.9  # a blink stays a blink whatever the head does
    assert head_degrees(moving).std(axis=0).min() > 0.3


def test_an_aroused_instruction_moves_the_head_more_than_a_calm_one_and_stays_human(pipeline, line):
    calm, aroused = head_degrees(take(pipeline, line, CALM)), head_degrees(take(pipeline, line, AROUSED))
    assert aroused.std(axis=0).sum() > 1.2 * calm.std(axis=0).sum()
    for motion in (calm, aroused):  # conversational head motion: a few degrees, not tens
        assert 0.3 < motion.std(axis=0).max() < 6.0 and np.ptp(motion, axis=0).max() < 25.0


def test_head_amount_scales_the_motion_and_takes_differ_by_seed(pipeline, line):
    one = head_degrees(take(pipeline, line, CALM, seed=4))
    two = head_degrees(take(pipeline, line, CALM, seed=4, nonverbal=NonverbalOptions(head_motion=2.0)))
    assert np.allclose(two, 2 * one, atol=1e-3)
    other = head_degrees(take(pipeline, line, CALM, seed=5))
    assert np.abs(other - one).max() > 0.5
    with pytest.raises(InputError, match="head motion must be between 0 and 2"):
        take(pipeline, line, CALM, nonverbal=NonverbalOptions(head_motion=2.5))


def test_head_nods_fall_on_accents_more_than_the_shifted_control(pipeline, asterisk_recording):
    rng = np.random.default_rng(0)
    hits = shifted = total = 0
    for key in (LONG_LINE, "conf-getpin", "vm-options", "agent-pass", "conf-enteringno"):
        path, transcript = asterisk_recording(key)
        audio = load_audio(path)
        document = pipeline(audio, transcript=transcript, instruction=CALM)
        pitch = head_degrees(document)[:, 0]
        analysis = pipeline.front_end.analyze(audio, transcript, 25.0)
        events = prosodic_events(analysis.prosody)
        extrema = velocity_extrema(pitch, 25.0) / 25.0
        hits += near(extrema, events, 0.2)
        total += len(extrema)
        duration = len(pitch) / 25.0
        for _ in range(SHIFTS):
            shifted += near((extrema + rng.uniform(1.0, duration - 1.0)) % duration, events, 0.2) / SHIFTS
    assert total >= 20 and hits / total > shifted / total + 0.05


def world_gaze(document: dict, eye: str = "left") -> np.ndarray:
    """(T, 2) degrees: where the eye looks once the head's yaw and pitch are added back."""
    return np.degrees(np.array(document["eyes"][eye]) + np.array(document["head"]["rotation"])[:, [1, 0]])


def test_the_eyes_saccade_return_to_contact_and_move_together(pipeline, line):
    document = take(pipeline, line, CALM)
    assert np.array_equal(document["eyes"]["left"], document["eyes"]["right"])  # conjugate: no vergence
    left = world_gaze(document)
    steps = np.linalg.norm(np.diff(left, axis=0), axis=1)
    assert (steps > 1.0).sum() >= 5  # saccades, not a fixed stare
    assert steps.max() < 16.0  # no teleporting: at most one large saccade per frame
    contact = np.linalg.norm(left, axis=1) <= 3.0
    assert 0.3 < contact.mean() < 0.95 and contact[-5:].all()  # back on the listener as the line ends
    weights = np.array(document["arkit"]["weights"])
    looks = [ARKIT_INDEX[n] for n in ("eyeLookOutLeft", "eyeLookInLeft", "eyeLookUpLeft", "eyeLookDownLeft")]
    assert weights[:, looks].max() > 0.05 and weights[:, looks].std(axis=0).max() > 0.01


def test_a_gaze_target_moves_eye_contact_and_a_near_point_converges_the_eyes(pipeline, line):
    turned = take(pipeline, line, CALM, nonverbal=NonverbalOptions(gaze=GazeTarget(np.radians(20), 0.0)))
    assert np.median(world_gaze(turned)[:, 0]) == pytest.approx(20, abs=1.5)
    # The eyes hold their target while the head turns: the head's yaw is taken off the eyes.
    head_yaw = np.degrees(np.array(turned["head"]["rotation"])[:, 1])
    eye_yaw = np.degrees(np.array(turned["eyes"]["left"])[:, 0])
    assert np.corrcoef(head_yaw, eye_yaw)[0, 1] < -0.3
    near_point = take(pipeline, line, CALM, nonverbal=NonverbalOptions(gaze=GazeTarget.from_point((0, 0, 0.4))))
    left, right = np.array(near_point["eyes"]["left"]), np.array(near_point["eyes"]["right"])
    assert np.allclose(right[:, 0] - left[:, 0], 2 * np.arctan2(0.0315, 0.4), atol=1e-4)  # both turn in


def test_a_target_far_to_the_side_turns_the_head_and_the_eyes_do_the_rest(pipeline, line):
    side = take(pipeline, line, CALM, nonverbal=NonverbalOptions(gaze=GazeTarget(np.radians(45), 0.0)))
    head_yaw = np.degrees(np.array(side["head"]["rotation"])[:, 1])
    eye_yaw = np.degrees(np.array(side["eyes"]["left"])[:, 0])
    assert np.median(head_yaw) == pytest.approx(45 - 16, abs=3)  # beyond the eyes' own range of about 16°
    assert np.median(eye_yaw) == pytest.approx(16, abs=3)
    assert np.median(world_gaze(side)[:, 0]) == pytest.approx(45, abs=1.5)
    still = take(pipeline, line, STILL, nonverbal=NonverbalOptions(gaze=GazeTarget(np.radians(45), 0.0)))
    assert np.all(np.array(still["head"]["rotation"]) == 0)  # a head held still leaves it to the eyes


def test_the_expression_moves_within_a_segment_and_the_layers_add_up(pipeline, line):
    document = take(pipeline, line, AROUSED, layers=True)
    validate_curves(document)
    layers = document["arkit"]["layers"]
    assert list(layers) == list(LAYERS)
    total = sum(np.array(layers[name]) for name in LAYERS)
    assert np.abs(total - np.array(document["arkit"]["weights"])).max() < 1e-4
    brow = np.array(layers["expression"])[:, ARKIT_INDEX["browDownLeft"]]
    speech = brow > 0.1
    assert brow[speech].std() > 0.02  # not a mask held still
    neutral = take(pipeline, line, CALM, layers=True)
    assert np.abs(np.array(neutral["arkit"]["layers"]["lips"]) - np.array(layers["lips"])).max() < 1e-4


def test_intensity_rising_across_a_segment(pipeline, line):
    rising = take(pipeline, line, "A fairly angry person speaks with brow mildly lowered and intensity strongly rising.",
                  layers=True)
    brow = np.array(rising["arkit"]["layers"]["expression"])[:, ARKIT_INDEX["browDownLeft"]]
    half = len(brow) // 2
    assert brow[half:].mean() > 1.5 * brow[:half].mean()


def test_head_eyes_and_moving_expression_leave_the_lips_alone(pipeline, asterisk_recording):
    # The take as it plays against the synthesizer's own motion for the same instruction.
    for key in (LONG_LINE, "vm-options"):
        path, transcript = asterisk_recording(key)
        audio = load_audio(path)
        analysis = pipeline.front_end.analyze(audio, transcript, 25.0)
        for synthesis in ("baseline", "learned"):
            document = pipeline(audio, transcript=transcript, instruction=AROUSED, synthesis=synthesis)
            plain = pipeline.synthesizer_named(synthesis).synthesize(
                analysis, [{"start": 0.0, "end": audio.duration, "instruction": AROUSED}], seed=0, fps=25.0,
                guidance=None, sampled=False).arkit
            alive = score_motion(without_blinks(np.array(document["arkit"]["weights"])), analysis.alignment.phones, 25.0)
            base = score_motion(without_blinks(plain), analysis.alignment.phones, 25.0)
            assert alive["closed"] >= base["closed"] and alive["closed"] == alive["bilabials"]
            assert alive["tucked"] >= base["tucked"]
