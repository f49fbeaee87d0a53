"""Shared fixtures: real speech files and paths. Everything here is real data, never mocks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ALSA_SOUNDS = Path("/usr/share/sounds/alsa")

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
def long_speech_wav(tmp_path_factory) -> Path:
    """About two minutes of real-voice-like speech: the demo sentence repeated with sox."""
    out = tmp_path_factory.mktemp("long") / "long_speech.wav"
    demo = REPO / "assets" / "demo_speech.wav"
    subprocess.run(["sox", *[str(demo)] * 15, str(out)], check=True)
    return out
