"""The emotional lines that teach the agent to read words: held apart from its evaluation."""

from __future__ import annotations

import re

from model_server.agent.grammar import EMOTIONS
from model_server.eval.evaluate_agent import CONTENT_PAIRS
from model_server.train.emotional_lines import EMOTIONAL_LINES, HELD_OUT_PER_EMOTION, split_lines


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z']+", text.lower()))


def test_every_emotion_but_neutral_has_lines_and_a_held_out_share():
    assert set(EMOTIONAL_LINES) == set(EMOTIONS) - {"neutral"}
    train, test = split_lines("train"), split_lines("test")
    assert len(test) == HELD_OUT_PER_EMOTION * len(EMOTIONAL_LINES)
    assert {e for e, _ in test} == set(EMOTIONAL_LINES) and not {l for _, l in train} & {l for _, l in test}
    lines = [l for _, l in train + test]
    assert len(set(lines)) == len(lines)  # no line twice, not even under two emotions


def test_no_line_repeats_an_evaluation_content_pair():
    for pair in CONTENT_PAIRS:
        for sentence in pair:
            for _, line in split_lines("train") + split_lines("test"):
                shared = words(sentence) & words(line)
                assert len(shared) < 0.6 * len(words(sentence)), (sentence, line)
