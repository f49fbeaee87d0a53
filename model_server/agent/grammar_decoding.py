"""How the learned agent's language model writes one instruction: its opening (emotion and intensity)
chosen among the grammar's openings, the rest greedily, checked against a draft.

- The opening ("A neutral person", "A slightly sad person", …) is one choice among the grammar's 22
  heads. One short pass scores every head by its whole probability. A token-by-token decoder makes the
  choice in two steps, first "neutral" or an intensity adverb, then the emotion; so "neutral" competes
  alone against adverbs that each carry seven emotions, and greedy decoding almost never writes it.
  HEAD_RULES name the choices: "greedy" (the head greedy decoding writes, so the reply is exactly greedy
  decoding's), "emotion" (the default: the most probable emotion, its intensities summed, at its most
  probable intensity) and "whole" (the most probable head). `evaluate_agent --head-rule` compares them.
  "emotion" lets "neutral" compete with each emotion rather than with each adverb: calm speech reads as
  calm, and the emotion is the one the model gives most probability to at any intensity.
- The rest of the reply follows the canonical phrasing of its head's emotion and intensity closely, so that
  sentence (then the other heads' canonical sentences) is a draft: the model checks a run of draft tokens in
  one forward pass and keeps them up to its first disagreement, where its own token is taken. The reply is
  the one greedy decoding writes, in a few passes rather than one pass per token (speculative decoding, with
  the grammar as the draft model).
"""

from __future__ import annotations

import copy

import numpy as np
import torch

from .grammar import EMOTION_ADJECTIVES, EMOTIONS, INTENSITY_ADVERBS, controls_for_emotion, format_instruction

DRAFT_TOKENS = 24  # most checked per pass: on a CPU a pass over 24 tokens costs about three single-token passes
HEAD_RULES = ("greedy", "emotion", "whole")
DEFAULT_HEAD_RULE = "emotion"  # where the tokenizer lets the heads be scored; "greedy" where it does not
MATCH_TOKENS = 3  # the reply's last tokens looked up in the draft to find where to continue from


def grammar_heads() -> list[tuple[str, int]]:
    """Every (emotion, intensity) an instruction can open with: neutral, then 7 emotions × 3 intensities."""
    return [("neutral", 0)] + [(e, i) for e in EMOTIONS if e != "neutral" for i in sorted(INTENSITY_ADVERBS)]


def head_text(emotion: str, intensity: int) -> str:
    """"A slightly sad person", as format_instruction opens the canonical sentence."""
    return format_instruction(controls_for_emotion(emotion, intensity)).split(" speaks ")[0]


class GrammarDecoder:
    """Writes instructions with one causal language model and its tokenizer (batch of one)."""

    def __init__(self, lm, tokenizer, max_tokens: int) -> None:
        self.lm, self.tokenizer, self.max_tokens = lm, tokenizer, max_tokens
        self.heads = grammar_heads()
        self.deciding = self._deciding_tokens()
        eos = [tokenizer.eos_token_id]
        self.drafts = {head: self._encode(format_instruction(controls_for_emotion(*head))) + eos for head in self.heads}

    def _encode(self, text: str) -> list[int]:
        # Replies are trained as " " + instruction: the leading space is part of the first token.
        return self.tokenizer(" " + text, add_special_tokens=False).input_ids

    def _deciding_tokens(self) -> tuple[int, dict, dict] | None:
        """The article's token, then the token after it for "neutral" and each intensity (as {head or
        intensity: token}), and the first token of each emotion word after an adverb. Any further pieces of
        an emotion word ("contempt|uous") and " person" follow with certainty once that token is written.
        None where this tokenizer splits those words otherwise: replies are then plain greedy decoding."""
        article = self._encode("A")
        after = {"neutral": self._encode("A neutral"), **{i: self._encode(f"A {w}") for i, w in INTENSITY_ADVERBS.items()}}
        if len(article) != 1 or any(len(t) != 2 or t[0] != article[0] for t in after.values()) \
                or len({t[1] for t in after.values()}) != len(after):
            return None
        adjectives = {}
        for emotion in EMOTION_ADJECTIVES:
            if emotion == "neutral":
                continue
            firsts = {self._encode(f"A {w} {EMOTION_ADJECTIVES[emotion]}")[2] for w in INTENSITY_ADVERBS.values()}
            if len(firsts) != 1:
                return None
            adjectives[emotion] = firsts.pop()
        if len(set(adjectives.values())) != len(adjectives):
            return None
        return article[0], {k: t[1] for k, t in after.items()}, adjectives

    @property
    def default_rule(self) -> str:
        """DEFAULT_HEAD_RULE, or "greedy" for a tokenizer whose heads cannot be scored (another --lm)."""
        return DEFAULT_HEAD_RULE if self.deciding else "greedy"

    @torch.inference_mode()
    def write(self, prefix: torch.Tensor, head_rule: str = "greedy") -> tuple[str, dict[tuple[str, int], float]]:
        """The reply to `prefix` (1, P, hidden) input embeddings, and the log-probability of every head
        (empty where the tokenizer cannot score them). Which head is written (HEAD_RULES): "greedy", the
        one token-by-token greedy decoding writes (the reply is exactly greedy decoding's); "emotion", the
        most probable emotion with its intensities summed, at its most probable intensity; "whole", the
        most probable head."""
        if head_rule not in HEAD_RULES:
            raise ValueError(f"unknown head rule {head_rule!r}; one of {', '.join(HEAD_RULES)}")
        out = self.lm(inputs_embeds=prefix, use_cache=True, logits_to_keep=1)
        scores, greedy_head = self._score_heads(out.cache) if self.deciding else ({}, None)
        if head_rule == "greedy":
            # Nothing is forced: the greedy head's sentence is only the first draft, checked like the rest.
            head, start = greedy_head, [int(out.logits[0, -1].argmax())]
        elif scores:
            head = best_head(scores, by_emotion=head_rule == "emotion")
            start = self._encode(head_text(*head))
        else:
            raise ValueError(f"head rule {head_rule!r} needs a tokenizer that writes the grammar's openings "
                             "word by word; this one splits them")
        drafts = ([self.drafts[head]] if head else []) + [d for h, d in self.drafts.items() if h != head]
        tokens = self._continue(out.cache, start, drafts)
        return self.tokenizer.decode(tokens, skip_special_tokens=True).strip(), scores

    def _score_heads(self, cache) -> tuple[dict[tuple[str, int], float], tuple[str, int] | None]:
        """log P(head | prefix) for every head, from one pass over four two-token rows on a copy of the cache
        (" A" → neutral or an adverb; " A <adverb>" → the emotion's first token), and the head greedy
        decoding writes (None where its best token after " A" or after the adverb is none of these)."""
        article, after, adjectives = self.deciding
        adverbs = {i: t for i, t in after.items() if i != "neutral"}
        cache = copy.deepcopy(cache)
        cache.batch_repeat_interleave(1 + len(adverbs))
        rows = [[article, after["neutral"]]] + [[article, token] for token in adverbs.values()]
        logits = self.lm(input_ids=torch.tensor(rows), cache=cache).logits.float().log_softmax(-1)
        after_article, after_adverb = logits[0, 0], logits[1:, 1]
        scores = {("neutral", 0): float(after_article[after["neutral"]])}
        for row, (intensity, adverb) in enumerate(adverbs.items()):
            for emotion, token in adjectives.items():
                scores[(emotion, intensity)] = float(after_article[adverb] + after_adverb[row, token])
        best = int(after_article.argmax())
        if best == after["neutral"]:
            return scores, ("neutral", 0)
        row = next((r for r, token in enumerate(adverbs.values()) if token == best), None)
        emotion = None if row is None else \
            next((e for e, token in adjectives.items() if token == int(after_adverb[row].argmax())), None)
        return scores, None if emotion is None else (emotion, list(adverbs)[row])

    def _continue(self, cache, start: list[int], drafts: list[list[int]]) -> list[int]:
        """Greedy continuation of `start` after the cached prefix: each pass feeds the tokens not yet in the
        cache plus a draft guess, and keeps the guess up to the model's first different choice. The guess
        grows while the model takes it and shrinks when it does not: a rejected guess is wasted work."""
        eos = self.tokenizer.eos_token_id
        reply, pending, size = list(start), list(start), DRAFT_TOKENS
        while len(reply) < self.max_tokens and reply[-1] != eos:
            guess = continuation_in(drafts, reply)[:size]
            logits = self.lm(input_ids=torch.tensor([pending + guess]), cache=cache).logits[0]
            choices = logits[len(pending) - 1:].argmax(-1).tolist()  # the model's next token after each fed token
            taken = []
            for j, choice in enumerate(choices):
                taken.append(choice)
                if choice == eos or j == len(guess) or choice != guess[j]:
                    break
            unused = len(guess) - (len(taken) - 1)  # guesses past the first disagreement; the last taken token is fed next pass
            if unused > 0:
                cache.crop(-unused)
            reply += taken
            pending = [taken[-1]]
            size = min(DRAFT_TOKENS, max(2, 2 * (len(taken) - 1)))
        return reply[:self.max_tokens]


def best_head(scores: dict[tuple[str, int], float], by_emotion: bool) -> tuple[str, int]:
    """The most probable head, or (by_emotion) the most probable emotion with its intensities' probabilities
    summed, at its most probable intensity."""
    if not by_emotion:
        return max(scores, key=scores.get)
    emotions = {emotion for emotion, _ in scores}
    mass = {e: float(np.logaddexp.reduce([s for (f, _), s in scores.items() if f == e])) for e in emotions}
    emotion = max(mass, key=mass.get)
    return max(((e, i) for e, i in scores if e == emotion), key=scores.get)


def continuation_in(drafts: list[list[int]], reply: list[int]) -> list[int]:
    """What follows the reply's last few tokens where they occur in a draft: the longest match wins, then
    the earlier draft, then the earlier place; nothing when they occur in none."""
    for n in range(min(MATCH_TOKENS, len(reply)), 0, -1):
        tail = reply[-n:]
        for draft in drafts:
            for start in range(len(draft) - n + 1):
                if draft[start:start + n] == tail:
                    return draft[start + n:]
    return []
