"""Short utterances of held-out clips, spoken for real by espeak-ng: a few consecutive words of the clip's
sentence, the same every time for the same clip."""

from __future__ import annotations

import re

import numpy as np

from model_server.eval.short_utterances import SHORT_WORDS, short_records, short_text, speak_short_utterance
from model_server.train.synthesis_data import read_manifest


def test_short_text_is_one_to_three_consecutive_words_of_the_sentence():
    sentence = "Many of the convicted thieves Parker has met began their life of crime."
    words = re.findall(r"[A-Za-z][A-Za-z']*", sentence)
    texts = [short_text(sentence, np.random.default_rng(seed)) for seed in range(200)]
    assert {len(t.split()) for t in texts} == set(SHORT_WORDS)
    assert all(f" {t} " in f" {' '.join(words)} " for t in texts)
    assert short_text("Yes.", np.random.default_rng(0)) == "Yes"  # never more words than the sentence has


def test_a_test_clip_gives_the_same_short_utterance_every_time(built_corpus):
    config, _ = built_corpus
    records = read_manifest(config.out)
    chosen = short_records(records)
    assert chosen and all(r["split"] == "test" for r in chosen) and len(chosen) < len(records)
    record = chosen[0]
    text, heard = speak_short_utterance(record)
    again_text, again = speak_short_utterance(record)
    assert text == again_text and np.array_equal(heard.samples, again.samples)
    assert 0.1 < heard.duration < record["duration"] and np.isfinite(heard.samples).all()
