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

import numpy as np
import torch

from .grammar import EMOTION_ADJECTIVES, EMOTIONS, INTENSITY_ADVERBS, controls_for_emotion, format_instruction
from .plain_llama import KeyValueCache, causal_attend

DRAFT_TOKENS = 24  # most checked per pass: on a CPU a pass over 24 tokens costs about three single-token passes
HEAD_RULES = ("greedy", "emotion", "whole")
DEFAULT_HEAD_RULE = "emotion"  # where the tokenizer lets the heads be scored; "greedy" where it does not
MATCH_TOKENS = 3  # the reply's last tokens looked up in the draft to find where to continue from
# Rows × padded width one batch's key/value cache may hold. Every row of a batch is padded to its longest
# prefix, and a long clip's whole-clip prompt carries its whole transcript: 105 segments of a 500 s line
# batched with it held 14 GB and read it all on every pass. About 0.75 GB for SmolLM2-135M; a clip of
# a minute or two stays one batch.
CACHE_TOKEN_ROWS = 16_384


def grammar_heads() -> list[tuple[str, int]]:
    """Every (emotion, intensity) an instruction can open with: neutral, then 7 emotions × 3 intensities."""
    return [("neutral", 0)] + [(e, i) for e in EMOTIONS if e != "neutral" for i in sorted(INTENSITY_ADVERBS)]


def head_text(emotion: str, intensity: int) -> str:
    """"A slightly sad person", as format_instruction opens the canonical sentence."""
    return format_instruction(controls_for_emotion(emotion, intensity)).split(" speaks ")[0]


class GrammarDecoder:
    """Writes instructions with one causal language model and its tokenizer (batch of one)."""

    def __init__(self, lm, tokenizer, max_tokens: int, continuation_lm=None) -> None:
        """`continuation_lm`: the same model in a faster dtype for the passes after the opening is chosen
        (the prefix and the openings' scores stay in `lm`'s own dtype); None: `lm` writes everything."""
        self.lm, self.tokenizer, self.max_tokens = lm, tokenizer, max_tokens
        self.continuation_lm = continuation_lm if continuation_lm is not None else lm
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

    def write(self, prefix: torch.Tensor, head_rule: str = "greedy") -> tuple[str, dict[tuple[str, int], float]]:
        """The reply to one `prefix` (1, P, hidden): write_many of one."""
        return self.write_many([prefix[0]], head_rule)[0]

    @torch.inference_mode()
    def write_many(self, prefixes: list[torch.Tensor], head_rule: str = "greedy", on_pass=None) -> list[tuple[str, dict]]:
        """The reply to each prefix ((P, hidden) input embeddings), and the log-probability of every head
        (empty where the tokenizer cannot score them). Which head is written (HEAD_RULES): "greedy", the
        one token-by-token greedy decoding writes (the reply is exactly greedy decoding's); "emotion", the
        most probable emotion with its intensities summed, at its most probable intensity; "whole", the
        most probable head.

        All replies are written together, one batch per pass: on a CPU a pass costs about the same for
        one row as for fifteen (reading the weights dominates), so a clip's segments cost a few passes,
        not a few per segment. Each row sees only its own tokens, so a reply is the one it would be alone.
        `on_pass(done, total)` is called before each pass with the replies finished so far (it may raise to
        stop, e.g. on a cancel)."""
        if head_rule not in HEAD_RULES:
            raise ValueError(f"unknown head rule {head_rule!r}; one of {', '.join(HEAD_RULES)}")
        if head_rule != "greedy" and not self.deciding:
            raise ValueError(f"head rule {head_rule!r} needs a tokenizer that writes the grammar's openings "
                             "word by word; this one splits them")
        on_pass = on_pass or (lambda done, total: None)
        replies: list = [None] * len(prefixes)
        done = 0
        for batch in cache_batches([len(p) for p in prefixes], CACHE_TOKEN_ROWS):
            written = self._write_batch([prefixes[i] for i in batch], head_rule,
                                        lambda finished, _, before=done: on_pass(before + finished, len(prefixes)))
            for i, reply in zip(batch, written):
                replies[i] = reply
            done += len(batch)
        return replies

    def _write_batch(self, prefixes: list[torch.Tensor], head_rule: str, on_pass) -> list[tuple[str, dict]]:
        """write_many's replies for rows that share one key/value cache."""
        on_pass(0, len(prefixes))
        rows = _Rows.prefill(self.lm, prefixes)
        scored = [self._score_heads(logits) for logits in self._head_logits(rows)] if self.deciding \
            else [({}, None)] * len(prefixes)
        starts, drafts = [], []
        for (scores, greedy_head), last in zip(scored, rows.last_logits):
            if head_rule == "greedy":
                # Nothing is forced: the greedy head's sentence is only the first draft, checked like the rest.
                head, start = greedy_head, [int(last.argmax())]
            else:
                head = best_head(scores, by_emotion=head_rule == "emotion")
                start = self._encode(head_text(*head))
            starts.append(start)
            drafts.append(([self.drafts[head]] if head else []) + [d for h, d in self.drafts.items() if h != head])
        replies = self._continue(rows, starts, drafts, on_pass)
        return [(self.tokenizer.decode(tokens, skip_special_tokens=True).strip(), scores)
                for tokens, (scores, _) in zip(replies, scored)]

    def _head_logits(self, rows: "_Rows") -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per row, the log-probabilities after " A" (vocab,) and after " A <adverb>" for each adverb
        (adverbs, vocab), from one pass: the article and every adverb after it side by side, each adverb
        seeing the article but not the other adverbs. Nothing of it stays in the cache: each reply feeds
        its own first tokens."""
        article, after, _ = self.deciding
        adverbs = [t for i, t in after.items() if i != "neutral"]
        logits = self.lm.logits(rows.feed_branches(self.lm, article, adverbs)).log_softmax(-1)  # (B, 1 + adverbs, vocab)
        return list(zip(logits[:, 0], logits[:, 1:]))

    def _score_heads(self, logits: tuple[torch.Tensor, torch.Tensor]) -> tuple[dict[tuple[str, int], float], tuple[str, int] | None]:
        """log P(head | prefix) for every head from one row's _head_logits, and the head greedy decoding
        writes (None where its best token after " A" or after the adverb is none of these)."""
        _, after, adjectives = self.deciding
        adverbs = {i: t for i, t in after.items() if i != "neutral"}
        after_article, after_adverb = logits
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

    def _continue(self, rows: "_Rows", starts: list[list[int]], drafts: list[list[list[int]]], on_pass) -> list[list[int]]:
        """Greedy continuation of each start after its cached prefix: each pass feeds every unfinished
        row the tokens not yet in its cache plus a draft guess, and keeps the guess up to the model's
        first different choice. The guess grows while the model takes it and shrinks when it does not;
        a rejected guess is masked out of the row's cache."""
        eos = self.tokenizer.eos_token_id
        replies, pending = [list(s) for s in starts], [list(s) for s in starts]
        sizes = [DRAFT_TOKENS] * len(starts)
        active = [i for i, r in enumerate(replies) if len(r) < self.max_tokens and r[-1] != eos]
        rows.keep_only(active)
        while active:
            on_pass(len(starts) - len(active), len(starts))
            guesses = [continuation_in(drafts[i], replies[i])[:sizes[i]] for i in active]
            # One width for the pass: long guesses are cut to it rather than every row padded to the longest.
            width = int(np.percentile([len(pending[i]) + len(g) for i, g in zip(active, guesses)], 75))
            guesses = [g[:max(0, width - len(pending[i]))] for i, g in zip(active, guesses)]
            feeds = [pending[i] + guess for i, guess in zip(active, guesses)]
            logits = rows.feed(self.continuation_lm, feeds)
            for slot, (i, guess, feed) in enumerate(zip(active, guesses, feeds)):
                # The model's next token after each fed token, from the last pending one on.
                choices = logits[slot, len(pending[i]) - 1:len(feed)].argmax(-1).tolist()
                taken = []
                for j, choice in enumerate(choices):
                    taken.append(choice)
                    if choice == eos or j == len(guess) or choice != guess[j]:
                        break
                # Guesses past the first disagreement leave the cache; the last taken token is fed next pass.
                rows.keep_fed(slot, len(feed), len(pending[i]) + len(taken) - 1)
                replies[i] += taken
                pending[i] = [taken[-1]]
                sizes[i] = min(DRAFT_TOKENS, max(2, 2 * (len(taken) - 1)))
            still = [slot for slot, i in enumerate(active) if len(replies[i]) < self.max_tokens and replies[i][-1] != eos]
            rows.keep_only(still)
            active = [active[slot] for slot in still]
        return [r[:self.max_tokens] for r in replies]


class _Rows:
    """A batch of rows sharing one key/value cache: which cached positions each row may attend to
    (prefixes are left-padded, rejected guesses masked out) and the position its next token takes."""

    def __init__(self, cache, mask: torch.Tensor, last_logits: torch.Tensor | None = None):
        self.cache, self.mask = cache, mask  # mask (B, cached): 1 where the row attends
        self.length = mask.sum(1).long()  # each row's real tokens so far: its next position id
        self.last_logits = last_logits
        self.last_width = 0

    @property
    def count(self) -> int:
        return len(self.mask)

    @classmethod
    def prefill(cls, lm, prefixes: list[torch.Tensor]) -> "_Rows":
        """The prefixes ((P, hidden) each), in passes over groups of similar length (a whole clip's
        transcript is many times a segment's: padding every row to it would cost more than it saves),
        joined into one left-padded batch; keeps each row's logits after its last token."""
        order = sorted(range(len(prefixes)), key=lambda i: len(prefixes[i]))
        groups, group, tokens = [], [], 0
        for i in order:  # a row joins a group while padding to its length wastes at most a quarter
            length = len(prefixes[i])
            if group and length * (len(group) + 1) > 1.25 * (tokens + length):
                groups.append(group)
                group, tokens = [], 0
            group.append(i)
            tokens += length
        groups.append(group)
        width = max(len(p) for p in prefixes)
        caches, masks, logits = [], [], []
        for group in groups:
            inputs, mask = _left_padded([prefixes[i] for i in group])
            positions = (mask.cumsum(-1) - 1).clamp(min=0)
            cache = KeyValueCache()
            hidden = lm.hidden_states(inputs, positions, causal_attend(mask, mask.shape[1]), cache)
            caches.append(cache.padded_left(width))
            masks.append(torch.nn.functional.pad(mask, (width - mask.shape[1], 0)))
            logits.append(lm.logits(hidden[:, -1]))
        back = torch.tensor(order).argsort()  # rows back in the order given
        return cls(KeyValueCache.joined(caches, back), torch.cat(masks)[back], torch.cat(logits)[back])

    def feed_branches(self, lm, trunk: int, branches: list[int]) -> torch.Tensor:
        """Every row's next token `trunk`, and each of `branches` after it, in one pass (a tree: each branch
        attends to the row's cached tokens, the trunk and itself, not to the other branches; all branches
        take the position after the trunk). (B, 1 + branches, hidden) final states; the cache is left as it was."""
        count = 1 + len(branches)
        ids = torch.tensor([[trunk, *branches]] * self.count)
        positions = self.length[:, None] + torch.tensor([0] + [1] * len(branches))[None]
        tree = torch.eye(count, dtype=torch.bool)
        tree[:, 0] = True  # every branch sees the trunk
        seen = self.mask.bool()[:, None, :].expand(-1, count, -1)  # (B, count, cached)
        attend = torch.cat([seen, tree.expand(self.count, -1, -1)], 2)  # (B, count, cached + count)
        hidden = lm.hidden_states(lm.embed(ids), positions, attend, self.cache)
        self.cache.crop(count)
        return hidden

    def feed(self, lm, tokens: list[list[int]]) -> torch.Tensor:
        """Each row's tokens (right-padded to one width, the padding masked) in one pass: (B, width, vocab) logits."""
        width = max(len(t) for t in tokens)
        ids = torch.tensor([t + [0] * (width - len(t)) for t in tokens])
        real = torch.tensor([[1] * len(t) + [0] * (width - len(t)) for t in tokens])
        positions = self.length[:, None] + torch.arange(width)[None]
        self.mask = torch.cat([self.mask, real], 1)
        self.length = self.length + real.sum(1)
        self.last_width = width
        return lm.logits(lm.hidden_states(lm.embed(ids), positions, causal_attend(self.mask, width), self.cache))

    def keep_fed(self, row: int, fed: int, kept: int) -> None:
        """Of the `fed` tokens the last pass gave `row`, only the first `kept` stay in its view."""
        first = self.mask.shape[1] - self.last_width  # the last pass's columns end the mask
        self.mask[row, first + kept:first + fed] = 0
        self.length[row] -= fed - kept

    def keep_only(self, rows: list[int]) -> None:
        """Drop every row not listed (finished replies), from the cache too."""
        if len(rows) == self.count:
            return
        if rows:
            self.cache.select(torch.tensor(rows))
        self.mask, self.length = self.mask[rows], self.length[rows]


def cache_batches(lengths: list[int], budget: int) -> list[list[int]]:
    """Row indices in batches whose rows × longest length stays within `budget` (a longer row alone):
    the shortest rows together, each batch in the order given. All rows fit: one batch, as given."""
    if len(lengths) * max(lengths, default=0) <= budget:
        return [list(range(len(lengths)))]
    batches, batch = [], []
    for i in sorted(range(len(lengths)), key=lambda i: lengths[i]):
        if batch and (len(batch) + 1) * lengths[i] > budget:
            batches.append(sorted(batch))
            batch = []
        batch.append(i)
    return batches + [sorted(batch)]


def _left_padded(prefixes: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, width, hidden) embeddings padded on the left with zeros, and the (B, width) mask of real ones."""
    width = max(len(p) for p in prefixes)
    inputs = torch.stack([torch.nn.functional.pad(p, (0, 0, width - len(p), 0)) for p in prefixes])
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prefixes])
    return inputs, mask


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
