"""Shared fixtures: real speech files, paths, a small real corpus and a tiny language model built here.
Everything here is real data, never mocks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ALSA_SOUNDS = Path("/usr/share/sounds/alsa")
CORPUS_CLIPS, CORPUS_TEST_FRACTION = 6, 0.3  # the small corpus of `built_corpus`
AGENT_LINE_CLIPS = 4  # emotional-line clips built beside it for the agent (the first line, four voices)

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def front_center_wav() -> Path:
    path = ALSA_SOUNDS / "Front_Center.wav"
    if not path.exists():
        pytest.fail("real speech clips missing: apt-get install alsa-utils (scripts/setup.sh does this)")
    return path


@pytest.fixture(scope="session")
def asterisk_recording(tmp_path_factory):
    """One of Asterisk's prompts (English: a professional female voice; also fr, es, it, ru) as
    (16 kHz WAV, transcript): asterisk_recording(key, language="en")."""
    from model_server.eval.real_recordings import asterisk_recordings

    cache = tmp_path_factory.mktemp("asterisk")

    def recording(key: str, language: str = "en"):
        found = {r.name: r for r in asterisk_recordings(cache, keys={key}, language=language)}
        if key not in found:
            pytest.fail(f"Asterisk's prompts in {language} missing: apt-get install asterisk-core-sounds-{language}-g722 "
                        "ffmpeg (scripts/setup.sh does this)")
        return found[key].path, found[key].transcript

    return recording


@pytest.fixture(scope="session")
def long_speech_wav(tmp_path_factory) -> Path:
    """About two minutes of real-voice-like speech: the demo sentence repeated with sox."""
    out = tmp_path_factory.mktemp("long") / "long_speech.wav"
    demo = REPO / "assets" / "demo_speech.wav"
    subprocess.run(["sox", *[str(demo)] * 15, str(out)], check=True)
    return out


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


@pytest.fixture(scope="session")
def tiny_lm_dir(tmp_path_factory):
    """A tiny language model with random weights: what `--lm PATH` accepts, small enough for tests."""
    return build_tiny_lm(tmp_path_factory.mktemp("tiny-lm"))


@pytest.fixture(scope="session")
def built_corpus(tmp_path_factory):
    """One small real corpus (espeak-ng, sox, pocketsphinx) for the corpus, training and agent tests."""
    from model_server.train.corpus import CorpusConfig, build_corpus

    out = tmp_path_factory.mktemp("corpus")
    config = CorpusConfig(out=out, clips=CORPUS_CLIPS, seed=3, workers=1, test_fraction=CORPUS_TEST_FRACTION)
    summary = build_corpus(config, log=lambda line: None)
    return config, summary


@pytest.fixture(scope="session")
def tiny_agent_dir(built_corpus, tiny_lm_dir, tmp_path_factory):
    """A learned agent's adapter trained for a few steps on the small corpus, for the tiny language model."""
    from model_server.train.agent_data import build_agent_features
    from model_server.train.train_agent import main as train_agent

    config, _ = built_corpus
    assert build_agent_features(config.out, workers=1, line_limit=AGENT_LINE_CLIPS) == []
    out = tmp_path_factory.mktemp("agent")
    train_agent(["--corpus", str(config.out), "--out", str(out), "--lm", str(tiny_lm_dir), "--tiny",
                 "--steps", "4", "--batch", "2", "--log-every", "2", "--seed", "3"])
    return out
