"""The agent evaluation on real inputs: the small corpus's held-out clips, espeak-ng pairs, the tiny learned agent."""

from __future__ import annotations

import numpy as np
import pytest

from model_server.agent.baseline import BaselineInstructionAgent
from model_server.agent.qformer_agent import QFormerInstructionAgent
from model_server.audio.front_end import SpeechFrontEnd
from model_server.eval.evaluate_agent import (content_pairs, emotional_lines, held_out, latency, markdown,
                                             prosody_pairs, short_utterances)
from model_server.eval.short_utterances import short_records
from model_server.train.synthesis_data import read_manifest
from model_server.train.emotional_lines import split_lines


@pytest.fixture(scope="module")
def agents(tiny_agent_dir):
    return {"baseline": BaselineInstructionAgent(), "learned": QFormerInstructionAgent.load(tiny_agent_dir)}


def test_held_out_scores_every_agent_on_the_test_clips(agents, built_corpus):
    config, _ = built_corpus
    section = held_out(agents, config.out, None, SpeechFrontEnd())
    assert section["clips"] >= 1
    for name, row in section["rows"].items():
        assert set(row) == {"emotion", "intensity", "both", "grammatical"}
        assert all(0.0 <= v <= 1.0 for v in row.values()), (name, row)
        assert row["both"] <= min(row["emotion"], row["intensity"])
    assert section["rows"]["baseline"]["grammatical"] == 1.0  # measured on what it wrote
    assert "| learned |" in markdown("held out", section)


def test_short_utterances_of_the_test_clips_are_scored_for_every_agent(agents, built_corpus):
    config, _ = built_corpus
    section = short_utterances(agents, config.out, None, SpeechFrontEnd())
    assert section["clips"] == len(short_records(read_manifest(config.out))) >= 1
    for name, row in section["rows"].items():
        assert all(0.0 <= v <= 1.0 for v in row.values()) and row["both"] <= min(row["emotion"], row["intensity"])


def test_pairs_tell_apart_what_the_baseline_is_built_to_hear(agents):
    front_end = SpeechFrontEnd()
    content = content_pairs({"baseline": agents["baseline"]}, front_end)["rows"]["baseline"]
    assert content["differ"] >= 0.75 and content["happy line reads as more positive"] >= 0.75  # its lexicon
    prosody = prosody_pairs({"baseline": agents["baseline"]}, front_end)["rows"]["baseline"]
    assert prosody["lively reads as more aroused"] >= 0.75  # its loudness, rate and pitch rules


def test_latency_is_measured_per_ten_seconds(agents):
    section = latency({"baseline": agents["baseline"]}, SpeechFrontEnd(), repeats=1)
    assert section["audio_seconds"] > 1 and np.isfinite(section["rows"]["baseline"]["s per 10 s of speech"])


def test_held_out_emotional_lines_are_scored_for_every_agent(agents):
    section = emotional_lines(agents, SpeechFrontEnd())
    assert section["lines"] == len(split_lines("test"))
    for name, row in section["rows"].items():
        assert 0.0 <= row["emotion"] <= row["valence"] <= 1.0, (name, row)  # the right emotion has the right valence
