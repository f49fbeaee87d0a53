"""Free text is read by meaning, the grammar's own words exactly as before, and nothing passes in silence."""

from __future__ import annotations

import numpy as np
import pytest

from model_server.agent.grammar import format_instruction, parse_instruction
from model_server.agent.reading import read_instruction
from model_server.arkit import ARKIT_INDEX
from model_server.audio.loading import load_audio


@pytest.mark.parametrize("text", [
    "A very angry person speaks with brow strongly lowered and lips fairly pressed.",
    "A neutral person speaks with relaxed face.",
    "A slightly sad person speaks with inner brow quite raised, nods fairly often.",
    "A calm person speaks.",
])
def test_the_grammar_s_own_words_are_read_exactly_as_before(text):
    reading = read_instruction(text)
    assert reading.by == "grammar" and reading.read_as == text and not reading.unused
    assert reading.controls == parse_instruction(text)


@pytest.mark.parametrize("text, emotion", [
    ("She is absolutely seething at him", "angry"), ("he can't stop beaming", "happy"),
    ("utterly heartbroken", "sad"), ("frozen in terror", "fearful"),
])
def test_everyday_words_are_read_by_meaning(text, emotion):
    reading = read_instruction(text)
    assert reading.by == "meaning" and reading.controls.emotion == emotion, reading.sentence()
    assert parse_instruction(reading.read_as).emotion == emotion  # what the synthesizers read
    assert f"read as {reading.controls.emotion}" in reading.sentence()


@pytest.mark.parametrize("text, unused", [("banana", ["banana"]), ("speaks like a pirate", ["like", "pirate"]),
                                          ("wearing a hat", ["wearing", "hat"]),
                                          ("A fairly angry person speaks with brow quite lowered, wearing a hat",
                                           ["wearing", "hat"])])
def test_words_that_change_nothing_are_named(text, unused):
    reading = read_instruction(text)
    assert reading.unused == unused and "changed nothing: " + ", ".join(unused) in reading.sentence()


def test_the_pipeline_animates_what_it_read_and_says_so(front_center_wav):
    from model_server.config import PipelineConfig
    from model_server.pipeline import TalkingFacePipeline

    pipeline = TalkingFacePipeline.from_config(PipelineConfig(synthesis="baseline"))
    audio = load_audio(front_center_wav)
    brow = ARKIT_INDEX["browDownLeft"]

    def take(text):
        document = pipeline(audio, transcript="front center", instruction=text, seed=1)
        return document, np.array(document["arkit"]["weights"])[:, brow].max()

    livid, livid_brow = take("She is absolutely seething at him")
    banana, banana_brow = take("banana")
    assert livid["segments"][0]["reading"]["by"] == "meaning" and livid["segments"][0]["reading"]["emotion"] == "angry"
    assert livid["segments"][0]["instruction"] == "She is absolutely seething at him"  # the animator's words kept
    assert banana["segments"][0]["reading"]["unused"] == ["banana"]
    assert livid_brow > banana_brow + 0.2
    assert format_instruction(parse_instruction(livid["segments"][0]["reading"]["read_as"])).startswith("A very angry")
