"""The shipped learned agent (assets/models/agent) on the packaged language model: it loads, writes the
grammar itself, and reads the words when the voice says nothing (the issue's own example pair)."""

from __future__ import annotations

import pytest

from model_server.agent.grammar import is_grammatical
from model_server.agent.qformer_agent import QFormerInstructionAgent
from model_server.audio.front_end import SpeechFrontEnd
from model_server.config import LEARNED_AGENT_DIR
from model_server.eval.evaluate_agent import CONTENT_PAIRS, PLAIN, emotion_of, espeak_analysis


@pytest.fixture(scope="module")
def agent():
    return QFormerInstructionAgent.load(LEARNED_AGENT_DIR)


def test_it_writes_the_grammar_without_the_parser_s_help(agent):
    analysis = espeak_analysis(SpeechFrontEnd(), "We are leaving for the station in ten minutes.", PLAIN)
    whole, segments = agent.instruct(analysis)
    assert agent.last_replies and all(is_grammatical(reply) for reply in agent.last_replies)
    assert is_grammatical(whole) and segments


def test_the_words_change_the_emotion_when_the_voice_is_plain(agent):
    front_end = SpeechFrontEnd()
    happy, sad = (espeak_analysis(front_end, line, PLAIN) for line in CONTENT_PAIRS[0])
    assert emotion_of(agent.instruct(happy)[0])[0] != emotion_of(agent.instruct(sad)[0])[0]
