"""Small real models for tests: a corpus of a few clips (espeak-ng, sox, pocketsphinx), a tiny language
model with random weights, and a learned agent's adapter trained for a few steps on them.

The test fixtures call these in-process; `python -m tests.tiny_models OUT` builds a tiny agent into OUT
(`OUT/agent`, `OUT/lm`) for tests running in a Blender environment without the model packages.
"""

from __future__ import annotations

import sys
from pathlib import Path

CORPUS_CLIPS, CORPUS_TEST_FRACTION = 6, 0.3  # the small corpus of `built_corpus`
AGENT_LINE_CLIPS = 4  # emotional-line clips built beside it for the agent (the first line, four voices)


def build_small_corpus(out: Path):
    """(config, summary) of the small corpus built into `out`."""
    from model_server.train.corpus import CorpusConfig, build_corpus

    config = CorpusConfig(out=out, clips=CORPUS_CLIPS, seed=3, workers=1, test_fraction=CORPUS_TEST_FRACTION)
    return config, build_corpus(config, log=lambda line: None)


def build_tiny_lm(out: Path, without: tuple[str, ...] = ()) -> Path:
    """A transformers causal-LM directory (Llama architecture, word-level tokenizer over the grammar's
    words and common English, less the words `without`), random weights."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    from model_server.agent.grammar import ACTIONS, DEGREES, EMOTION_ADJECTIVES, INTENSITY_ADVERBS

    words = ["A", "person", "speaks", "with", "and", "neutral", "relaxed", "face", "jaw", "opening", "wide", "small",
             "speaking", "energy", "high", "low", "Transcript", "Facial", "instruction", "front", "center", "the"]
    words += list(INTENSITY_ADVERBS.values()) + list(EMOTION_ADJECTIVES.values()) + [d for d, _ in DEGREES]
    words += [w for _, part, verb in ACTIONS for w in f"{part} {verb}".split()]
    tokenizer = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.train_from_iterator([" ".join(w for w in words if w not in without) + ' , . : " ( )'],
                                  trainers.WordLevelTrainer(special_tokens=["<unk>", "<pad>", "<eos>"]))
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="<unk>", pad_token="<pad>", eos_token="<eos>")
    config = LlamaConfig(vocab_size=len(fast), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=512,
                         pad_token_id=fast.pad_token_id, eos_token_id=fast.eos_token_id, bos_token_id=None)
    LlamaForCausalLM(config).save_pretrained(out)
    fast.save_pretrained(out)
    return out


def train_tiny_agent(corpus: Path, lm: Path, out: Path) -> Path:
    """A learned agent's adapter trained for a few steps on `corpus`, for the language model `lm`."""
    from model_server.train.agent_data import build_agent_features
    from model_server.train.train_agent import main as train_agent

    assert build_agent_features(corpus, workers=1, line_limit=AGENT_LINE_CLIPS) == []
    train_agent(["--corpus", str(corpus), "--out", str(out), "--lm", str(lm), "--tiny",
                 "--steps", "4", "--batch", "2", "--log-every", "2", "--seed", "3"])
    return out


if __name__ == "__main__":
    root = Path(sys.argv[1])
    config, _ = build_small_corpus(root / "corpus")
    train_tiny_agent(config.out, build_tiny_lm(root / "lm"), root / "agent")
