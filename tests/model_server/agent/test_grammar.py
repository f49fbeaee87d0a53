"""The instruction grammar: canonical round trips and tolerant parsing of free edits."""

from __future__ import annotations

import pytest

from model_server.agent.grammar import (
    EMOTIONS, StyleControls, controls_for_emotion, format_instruction, is_grammatical, parse_instruction,
)


@pytest.mark.parametrize("emotion", EMOTIONS)
@pytest.mark.parametrize("intensity", [1, 2, 3])
def test_every_emotion_and_intensity_round_trips(emotion, intensity):
    controls = controls_for_emotion(emotion, intensity)
    text = format_instruction(controls)
    assert is_grammatical(text), text
    parsed = parse_instruction(text)
    assert parsed.emotion == controls.emotion and parsed.intensity == controls.intensity
    assert parsed.actions.keys() == controls.actions.keys()
    for key, value in controls.actions.items():
        assert abs(parsed.actions[key] - value) <= 0.11  # one degree word's rounding


def test_the_papers_example_sentence():
    controls = parse_instruction("A disappointed person speaks with fairly lifted cheek, brow quite lowered, "
                                 "slightly lifted inner brow, and lip mildly stretched.")
    assert controls.emotion == "sad"
    assert controls.actions["cheek_raised"] == pytest.approx(0.65)
    assert controls.actions["brow_lowered"] == pytest.approx(0.85)
    assert controls.actions["inner_brow_raised"] == pytest.approx(0.25)
    assert controls.actions["lip_stretched"] == pytest.approx(0.45)


def test_free_text_edit():
    controls = parse_instruction("speaks angrily, brows pulled down, lips pressed between words, "
                                 "sharp wide jaw opening on stressed vowels")
    assert controls.emotion == "angry"
    assert {"brow_lowered", "lip_pressed"} <= controls.actions.keys()
    assert controls.jaw_scale > 1.2


def test_only_an_emotion_gives_its_prototype_face():
    assert parse_instruction("very happy").actions == controls_for_emotion("happy", 3).actions
    assert parse_instruction("she sounds slightly sad").intensity == 1


def test_unknown_text_is_neutral_and_never_raises():
    controls = parse_instruction("lorem ipsum 123 ;;; ")
    assert controls == StyleControls()
    assert not is_grammatical("lorem ipsum")
    assert not is_grammatical("A happy person speaks with ears flapping.")


def test_canonical_sentence_is_readable():
    text = format_instruction(controls_for_emotion("angry", 3))
    assert text.startswith("A very angry person speaks with brow quite lowered")
    assert text.endswith(".") and ", and " in text


@pytest.mark.parametrize("text, motion", [
    ("A fairly angry person speaks with brow quite lowered, nods fairly often, and gaze mildly averted.",
     {"nodding": 0.65, "gaze_away": 0.45}),
    ("A neutral person speaks with head held still.", {"head_still": 1.0}),
    ("A neutral person speaks with head slightly tilted and gaze quite steady.", {"head_tilted": 0.25, "gaze_steady": 0.85}),
])
def test_head_and_gaze_phrases_are_grammar_and_read_back(text, motion):
    controls = parse_instruction(text)
    assert is_grammatical(text) and controls.motion == motion
    assert format_instruction(controls) == text


@pytest.mark.parametrize("text, key", [
    ("speaks angrily and nods often", "nodding"), ("head held still, please", "head_still"),
    ("she tilts her head", "head_tilted"), ("looks down at her hands", "gaze_down"),
    ("looks away while thinking", "gaze_away"), ("steady gaze into the lens", "gaze_steady"),
    ("growing angrier by the word", "rising"), ("calming down towards the end", "falling"),
])
def test_an_animator_can_type_head_gaze_and_course_in_free_text(text, key):
    assert key in parse_instruction(text).motion


def test_the_face_reads_an_instruction_without_its_motion_phrases():
    from model_server.agent.grammar import with_motion_phrases, without_motion_phrases

    face = "A fairly angry person speaks with brow quite lowered and lips fairly pressed."
    moving = with_motion_phrases(face, {"nodding": 0.45, "gaze_down": 0.25})
    assert moving == ("A fairly angry person speaks with brow quite lowered, lips fairly pressed, nods mildly often, "
                      "and gaze slightly lowered.")
    assert without_motion_phrases(moving) == face and parse_instruction(moving).vector() == parse_instruction(face).vector()
    assert without_motion_phrases("A neutral person speaks with head held still.") == \
        "A neutral person speaks with relaxed face."
