"""Shared fixtures: real speech files, paths, a small real corpus and a tiny language model built here.
Everything here is real data, never mocks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ALSA_SOUNDS = Path("/usr/share/sounds/alsa")

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.tiny_models import build_small_corpus, build_tiny_lm, train_tiny_agent  # noqa: E402


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


@pytest.fixture(scope="session")
def tiny_lm_dir(tmp_path_factory):
    """A tiny language model with random weights: what `--lm PATH` accepts, small enough for tests."""
    return build_tiny_lm(tmp_path_factory.mktemp("tiny-lm"))


@pytest.fixture(scope="session")
def built_corpus(tmp_path_factory):
    """One small real corpus (espeak-ng, sox, pocketsphinx) for the corpus, training and agent tests."""
    return build_small_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="session")
def tiny_agent_dir(built_corpus, tiny_lm_dir, tmp_path_factory):
    """A learned agent's adapter trained for a few steps on the small corpus, for the tiny language model."""
    config, _ = built_corpus
    return train_tiny_agent(config.out, tiny_lm_dir, tmp_path_factory.mktemp("agent"))
