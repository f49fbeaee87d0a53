"""Corpus styles: every instruction phrasing parses back to its emotion and intensity, and free
phrasings name the actions they were written for."""

from __future__ import annotations

import numpy as np
import pytest

from model_server.agent.grammar import ACTION_KEYS, EMOTIONS, StyleControls, controls_for_emotion, parse_instruction
from model_server.train.styles import (PHRASINGS, action_phrases, espeak_params, sample_speaker, sample_style,
                                       vary_controls, write_instruction)

CASES = [(e, i) for e in EMOTIONS if e != "neutral" for i in (1, 2, 3)] + [("neutral", 0)]


@pytest.mark.parametrize("phrasing", PHRASINGS)
def test_every_phrasing_parses_to_its_emotion_and_intensity(phrasing):
    rng = np.random.default_rng(0)
    for emotion, intensity in CASES:
        for _ in range(30):
            controls = vary_controls(controls_for_emotion(emotion, intensity), rng)
            text = write_instruction(controls, phrasing, rng)
            parsed = parse_instruction(text)
            assert (parsed.emotion, parsed.intensity) == (emotion, intensity), text


def test_free_action_phrases_parse_to_exactly_their_actions():
    rng = np.random.default_rng(1)
    for key in ACTION_KEYS:
        for strength in (0.2, 0.5, 0.9):
            for _ in range(6):
                phrases = action_phrases(StyleControls("angry", 2, {key: strength}), rng)
                parsed = parse_instruction(f"Speaking angrily, {phrases[0]}.")
                assert set(parsed.actions) == {key}, phrases[0]
                assert abs(parsed.actions[key] - strength) <= 0.3, phrases[0]


def test_sampled_styles_cover_the_emotions_and_vary_around_the_prototype():
    rng = np.random.default_rng(2)
    samples = [sample_style(rng) for _ in range(600)]
    assert {s.emotion for s in samples} == set(EMOTIONS)
    assert {s.phrasing for s in samples} == set(PHRASINGS)
    angry = [s.controls for s in samples if (s.emotion, s.intensity) == ("angry", 3)]
    brow = [c.actions.get("brow_lowered", 0.0) for c in angry]
    assert np.std(brow) > 0.03 and 0.5 < np.median(brow) <= 1.0
    for s in samples:
        assert all(0.1 <= v <= 1.0 for v in s.controls.actions.values())
        assert 0.6 <= s.controls.jaw_scale <= 1.5 and 0.6 <= s.controls.energy <= 1.5


def test_emotional_prosody_moves_away_from_the_speaker_with_intensity():
    rng = np.random.default_rng(3)
    speaker = sample_speaker(rng)

    def params(emotion, intensity):
        return espeak_params(type("S", (), {"emotion": emotion, "intensity": intensity})(), speaker)

    neutral, sad, angry = params("neutral", 0), params("sad", 3), params("angry", 3)
    assert sad.rate < neutral.rate < angry.rate
    assert sad.amplitude < neutral.amplitude < angry.amplitude
    assert sad.range_percent < neutral.range_percent < angry.range_percent
    assert abs(params("angry", 1).rate - neutral.rate) < abs(angry.rate - neutral.rate)
