"""The baseline agent reacts to prosody and to what is said."""

from __future__ import annotations

import numpy as np

from model_server.agent.baseline import BaselineInstructionAgent
from model_server.agent.grammar import is_grammatical, parse_instruction
from model_server.audio.types import Alignment, Audio, Prosody, SpeechAnalysis, SpeechSegment


def analysis(text: str, *, loudness: float, f0: float, f0_range: float, rate: float, seconds: float = 3.0):
    frames = int(seconds * 25)
    audio = Audio(np.zeros(int(seconds * 16000), np.float32), 16000, "synthetic")
    prosody = Prosody(25.0, np.full(frames, f0), np.ones(frames), np.full(frames, loudness), np.full(frames, 0.7))
    segment = SpeechSegment(0.0, seconds, text, rate, f0, f0_range, loudness, 0.0)
    return SpeechAnalysis(audio, Alignment([], [], text, "forced"), prosody, [segment])


def test_fast_loud_high_and_slow_soft_low_read_differently():
    agent = BaselineInstructionAgent()
    excited, _ = agent.instruct(analysis("the train leaves at noon", loudness=-12, f0=260, f0_range=11, rate=16))
    tired, _ = agent.instruct(analysis("the train leaves at noon", loudness=-36, f0=110, f0_range=2, rate=7))
    a, b = parse_instruction(excited), parse_instruction(tired)
    assert (a.emotion, a.intensity) != (b.emotion, b.intensity)
    assert a.energy > b.energy


def test_content_matters_with_neutral_prosody():
    agent = BaselineInstructionAgent()
    neutral = dict(loudness=-24, f0=165, f0_range=5, rate=11)
    won, _ = agent.instruct(analysis("I can't believe we won, this is wonderful", **neutral))
    sorry, _ = agent.instruct(analysis("I'm so sorry, he didn't make it", **neutral))
    assert parse_instruction(won).emotion == "happy"
    assert parse_instruction(sorry).emotion == "sad"


def test_every_segment_gets_a_grammatical_instruction():
    whole, segments = BaselineInstructionAgent().instruct(
        analysis("what a lovely day", loudness=-20, f0=200, f0_range=6, rate=12))
    assert is_grammatical(whole)
    assert len(segments) == 1 and segments[0]["start"] == 0.0 and segments[0]["end"] == 3.0
    assert all(is_grammatical(s["instruction"]) for s in segments)
