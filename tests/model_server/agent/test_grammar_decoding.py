"""The learned agent's decoding: every grammar head scored by the language model's own probabilities, and
the drafted continuation equal to plain greedy decoding after the chosen head. The decoder runs the plain
model (plain_llama); the probabilities and greedy replies it must match are transformers' own."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch

from model_server.agent import grammar_decoding
from model_server.agent.grammar import parse_instruction
from model_server.agent.grammar_decoding import (DEFAULT_HEAD_RULE, HEAD_RULES, GrammarDecoder, best_head, continuation_in, grammar_heads,
                                                head_text)
from model_server.agent.language_model import DTYPE_ENV, inference_dtype, load_inference_model, load_language_model
from model_server.errors import InputError
from tests.tiny_models import build_tiny_lm

PREFIX_TOKENS = 6


def models(folder):
    """The plain model and tokenizer the decoder writes with, and transformers' model of the same folder."""
    lm, tokenizer = load_inference_model(folder)
    reference, _ = load_language_model(folder)
    return SimpleNamespace(lm=lm, tokenizer=tokenizer, reference=reference.eval())


@pytest.fixture(scope="module")
def tiny(tiny_lm_dir):
    return models(tiny_lm_dir)


def random_prefix(lm, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(1, PREFIX_TOKENS, lm.shape.hidden_size, generator=generator)


def test_the_heads_are_the_grammar_s_openings():
    heads = grammar_heads()
    assert len(heads) == len(set(heads)) == 22
    for emotion, intensity in heads:
        parsed = parse_instruction(head_text(emotion, intensity) + " speaks with relaxed face.")
        assert (parsed.emotion, parsed.intensity) == (emotion, intensity)


def test_the_emotion_rule_sums_an_emotion_s_intensities():
    scores = {("neutral", 0): math.log(0.3), ("sad", 1): math.log(0.25), ("sad", 2): math.log(0.2),
              ("happy", 1): math.log(0.25)}
    assert best_head(scores, by_emotion=False) == ("neutral", 0)
    assert best_head(scores, by_emotion=True) == ("sad", 1)


def test_the_draft_continues_after_the_longest_match():
    first, second = [1, 2, 3, 4, 2, 5, 6], [8, 9, 7, 1]
    assert continuation_in([first, second], [9, 2, 5]) == [6]  # "2 5" at index 4, not the first "2"
    assert continuation_in([first, second], [9, 2]) == [3, 4, 2, 5, 6]
    assert continuation_in([first, second], [8, 9]) == [7, 1]  # the longer match, in the second draft
    assert continuation_in([second, first], [1]) == []  # the second draft's "1" ends it
    assert continuation_in([first, second], [0]) == []


def test_head_scores_are_the_language_model_s_probabilities(tiny):
    lm, tokenizer = tiny.lm, tiny.tokenizer
    decoder = GrammarDecoder(lm, tokenizer, max_tokens=24)
    assert decoder.default_rule == DEFAULT_HEAD_RULE == "emotion"  # heads this tokenizer can score
    prefix = random_prefix(lm, 0)
    _, scores = decoder.write(prefix, "whole")
    assert set(scores) == set(grammar_heads())
    for head, decided in ((("neutral", 0), 2), (("sad", 1), 3), (("contempt", 3), 3)):
        ids = tokenizer(" " + head_text(*head), add_special_tokens=False).input_ids
        embeds = torch.cat([prefix, lm.get_input_embeddings()(torch.tensor([ids]))], dim=1)
        with torch.no_grad():
            logp = tiny.reference(inputs_embeds=embeds).logits.log_softmax(-1)[0]
        # Tokens after the article, up to the one that decides the head (the emotion word's first).
        expected = sum(float(logp[PREFIX_TOKENS - 1 + k, ids[k]]) for k in range(1, decided))
        assert scores[head] == pytest.approx(expected, abs=1e-4)


def greedy_reply(models, embeds: torch.Tensor, max_new_tokens: int) -> list[int]:
    """What transformers' greedy generate() writes after `embeds`."""
    out = models.reference.generate(inputs_embeds=embeds, attention_mask=torch.ones(embeds.shape[:2], dtype=torch.long),
                                    max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=models.tokenizer.pad_token_id)
    return out[0].tolist()


def test_the_greedy_rule_writes_what_greedy_decoding_writes(tiny):
    lm, tokenizer = tiny.lm, tiny.tokenizer
    decoder = GrammarDecoder(lm, tokenizer, max_tokens=20)
    for seed in range(3):
        prefix = random_prefix(lm, seed)
        reply, _ = decoder.write(prefix, "greedy")
        assert reply == tokenizer.decode(greedy_reply(tiny, prefix, 20), skip_special_tokens=True).strip()


@pytest.mark.parametrize("rule", [rule for rule in HEAD_RULES if rule != "greedy"])
def test_a_chosen_head_is_followed_by_greedy_decoding(tiny, rule):
    lm, tokenizer = tiny.lm, tiny.tokenizer
    decoder = GrammarDecoder(lm, tokenizer, max_tokens=20)
    for seed in range(3):
        prefix = random_prefix(lm, seed)
        reply, scores = decoder.write(prefix, rule)
        head = best_head(scores, by_emotion=rule == "emotion")
        ids = tokenizer(" " + head_text(*head), add_special_tokens=False).input_ids
        embeds = torch.cat([prefix, lm.get_input_embeddings()(torch.tensor([ids]))], dim=1)
        expected = ids + greedy_reply(tiny, embeds, 20 - len(ids))
        assert reply == tokenizer.decode(expected, skip_special_tokens=True).strip()


def test_a_tokenizer_that_cannot_score_the_heads_still_decodes_greedily(tmp_path):
    """Without "fairly" and "very" in its vocabulary both adverbs are one unknown token: no head can be
    scored, so replies are plain greedy decoding and the other rules say why they cannot run."""
    split = models(build_tiny_lm(tmp_path / "lm", without=("fairly", "very")))
    lm, tokenizer = split.lm, split.tokenizer
    decoder = GrammarDecoder(lm, tokenizer, max_tokens=12)
    assert decoder.deciding is None and decoder.default_rule == "greedy"
    prefix = random_prefix(lm, 1)
    reply, scores = decoder.write(prefix, "greedy")
    assert scores == {}
    assert reply == tokenizer.decode(greedy_reply(split, prefix, 12), skip_special_tokens=True).strip()
    with pytest.raises(ValueError, match="splits them"):
        decoder.write(prefix, "whole")
    with pytest.raises(ValueError, match="unknown head rule"):
        decoder.write(prefix, "likeliest")


@pytest.mark.parametrize("rule", HEAD_RULES)
def test_replies_written_together_are_the_ones_written_alone(tiny, rule):
    """Prefixes of different lengths in one batch (left-padded, guesses masked per row): same replies, same scores."""
    lm, tokenizer = tiny.lm, tiny.tokenizer
    decoder = GrammarDecoder(lm, tokenizer, max_tokens=20)
    prefixes = [torch.randn(length, lm.shape.hidden_size, generator=torch.Generator().manual_seed(seed))
                for seed, length in enumerate((6, 11, 3, 8))]
    passes = []
    together = decoder.write_many(prefixes, rule, on_pass=lambda done, total: passes.append((done, total)))
    for prefix, (reply, scores) in zip(prefixes, together):
        alone, alone_scores = decoder.write(prefix[None], rule)
        assert reply == alone
        assert scores.keys() == alone_scores.keys()
        assert all(scores[h] == pytest.approx(alone_scores[h], abs=1e-4) for h in scores)
    done = [d for d, _ in passes]
    assert passes[0] == (0, 4) and done == sorted(done) and {t for _, t in passes} == {4}


def test_a_long_row_is_written_apart_and_the_replies_stay_the_same(tiny, monkeypatch):
    """A whole clip's prompt is many times a segment's: with a cache budget too small for all rows padded
    to it, the rows are written in batches, each its rows' replies, and progress still counts them all."""
    lm, tokenizer = tiny.lm, tiny.tokenizer
    decoder = GrammarDecoder(lm, tokenizer, max_tokens=20)
    prefixes = [torch.randn(length, lm.shape.hidden_size, generator=torch.Generator().manual_seed(seed))
                for seed, length in enumerate((6, 40, 3, 8, 5))]
    together = decoder.write_many(prefixes, "emotion")
    assert grammar_decoding.cache_batches([len(p) for p in prefixes], 60) == [[0, 2, 3, 4], [1]]
    monkeypatch.setattr(grammar_decoding, "CACHE_TOKEN_ROWS", 60)
    passes = []
    apart = decoder.write_many(prefixes, "emotion", on_pass=lambda done, total: passes.append((done, total)))
    assert [reply for reply, _ in apart] == [reply for reply, _ in together]
    done = [d for d, _ in passes]
    assert done[0] == 0 and done == sorted(done) and 4 in done and {t for _, t in passes} == {5}


def test_cache_batches_keep_every_row_once_within_the_budget():
    assert grammar_decoding.cache_batches([5, 7, 9], 27) == [[0, 1, 2]]  # all fit: one batch, as given
    lengths = [30, 4, 4, 900, 6, 5, 4, 31]
    batches = grammar_decoding.cache_batches(lengths, 100)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert all(b == sorted(b) for b in batches)
    assert all(len(b) == 1 or len(b) * max(lengths[i] for i in b) <= 100 for b in batches)
    assert [3] in batches  # longer than the budget: alone


def test_a_bfloat16_continuation_keeps_the_float32_openings(tiny):
    """With a bfloat16 copy writing after the opening, every opening's score is the float32 model's and the
    reply opens with the head those scores choose, then goes on from the float32 prefix."""
    lm, tokenizer = tiny.lm, tiny.tokenizer
    exact = GrammarDecoder(lm, tokenizer, max_tokens=20)
    mixed = GrammarDecoder(lm, tokenizer, max_tokens=20, continuation_lm=lm.to(torch.bfloat16))
    for seed in range(3):
        prefix = random_prefix(lm, seed)
        (_, exact_scores), (reply, scores) = exact.write(prefix, "emotion"), mixed.write(prefix, "emotion")
        assert scores == exact_scores
        assert reply.startswith(head_text(*best_head(scores, by_emotion=True)))


def test_the_continuation_dtype_is_float32_unless_named(monkeypatch):
    native = any(torch.cpu.get_capabilities().get(name) for name in ("avx512_bf16", "amx_bf16", "bf16"))
    monkeypatch.delenv(DTYPE_ENV, raising=False)
    assert inference_dtype() == torch.float32
    assert inference_dtype("auto") == (torch.bfloat16 if native else torch.float32)
    monkeypatch.setenv(DTYPE_ENV, "bfloat16")
    assert inference_dtype() == torch.bfloat16
    with pytest.raises(InputError, match="unknown dtype 'half'"):
        inference_dtype("half")
