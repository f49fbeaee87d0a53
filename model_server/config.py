"""Settings of the model process, with defaults in code and overrides from CLI flags."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .agent.registry import DEFAULT_AGENT

# model_server/ and assets/ are siblings both in the repo and inside the packaged extension.
ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"
DEMO_AUDIO = ASSETS_DIR / "demo_speech.wav"
DEMO_TRANSCRIPT = ASSETS_DIR / "demo_speech.txt"
REFERENCE_HEAD = ASSETS_DIR / "reference_head.glb"  # the evaluation's measuring mesh (scripts/reference_head_geometry.py)
LEARNED_AGENT_DIR = ASSETS_DIR / "models" / "agent"
# What the model process derives once and keeps (the default language model converted from its GGUF).
CACHE_DIR = Path(os.environ.get("AVI_TALKING_CACHE", Path.home() / ".cache" / "avi-talking-blender"))

DEFAULT_FPS = 25.0  # the paper's frame rate
DEFAULT_MAX_AUDIO_SECONDS = 30 * 60.0
MAX_TAKES = 16  # takes (style samples) one animate request may ask for
MAX_SEED = 2**32 - 1 - MAX_TAKES  # numpy seeds are 32-bit; take k uses seed + k - 1


def _default_synthesis() -> str:
    from .synthesis.registry import DEFAULT_SYNTHESIS  # imported late: the registry imports this module

    return DEFAULT_SYNTHESIS


@dataclass
class PipelineConfig:
    max_audio_seconds: float = DEFAULT_MAX_AUDIO_SECONDS
    flame_model: Path | None = None  # user's FLAME file; without it the default retarget is used
    agent: str = DEFAULT_AGENT
    agent_url: str | None = None  # the endpoint agent's OpenAI-compatible API root (…/v1)
    agent_model: str | None = None  # the model name that endpoint expects
    agent_weights: Path | None = None  # the learned agent's adapter (default: assets/models/agent)
    agent_lm: Path | None = None  # the learned agent's language model directory (default: the packaged one)
    synthesis: str = field(default_factory=_default_synthesis)  # the default; requests may pick another
