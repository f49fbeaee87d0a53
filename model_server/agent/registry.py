"""Instruction agents by name, and which one a process uses unless told otherwise."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Callable

from ..errors import InputError

AGENTS = ("baseline", "learned", "endpoint")
DEFAULT_AGENT = "learned"
API_KEY_ENV = "AVI_TALKING_AGENT_API_KEY"  # read for the endpoint agent, so the key stays off command lines


def check_agent_setting(name: str, *, url: str | None = None, lm: Path | None = None,
                        weights: Path | None = None, dtype: str | None = None) -> None:
    """InputError, in the words load_agent would use, for a setting that cannot load; loads nothing.

    The server checks this before it says it is ready and loads the agent itself afterwards."""
    if name not in AGENTS:
        raise InputError(f"unknown instruction agent {name!r}; available: {', '.join(AGENTS)}")
    if name == "endpoint" and not url:
        raise InputError("the endpoint agent needs --agent-url, the root of an OpenAI-compatible API "
                         "such as http://127.0.0.1:8080/v1")
    if name == "learned":
        from ..config import LEARNED_AGENT_DIR  # late: config reads this module's defaults
        from .agent_files import check_agent_files
        from .language_model import dtype_choice

        check_agent_files(Path(weights or LEARNED_AGENT_DIR), lm)
        dtype_choice(dtype)


def load_agent(name: str, *, url: str | None = None, model: str | None = None, lm: Path | None = None,
               weights: Path | None = None, dtype: str | None = None):
    """The agent called `name`. The endpoint agent needs the URL of an OpenAI-compatible API (…/v1); the
    learned one reads its adapter from `weights`, may run on another language model directory `lm`, and
    writes after each reply's opening in `dtype` (language_model.inference_dtype: float32 by default)."""
    check_agent_setting(name, url=url, lm=lm, weights=weights, dtype=dtype)
    if name == "learned":
        from ..config import LEARNED_AGENT_DIR
        from .qformer_agent import QFormerInstructionAgent

        return QFormerInstructionAgent.load(weights or LEARNED_AGENT_DIR, lm_path=lm, dtype=dtype)
    if name == "baseline":
        from .baseline import BaselineInstructionAgent

        return BaselineInstructionAgent()
    from .endpoint import EndpointInstructionAgent

    return EndpointInstructionAgent(url, model or "default", api_key=os.environ.get(API_KEY_ENV))


class LazyAgent:
    """An agent loaded on its first instruction: a batch `animate --instruction …` never waits for a
    language model it does not use. The server loads it before announcing itself (`loaded`)."""

    def __init__(self, name: str, load: Callable[[], object]) -> None:
        self.name = name
        self._load = load
        self._agent = None
        self._lock = threading.Lock()  # API requests and the job worker may ask at the same time

    def loaded(self):
        with self._lock:
            if self._agent is None:
                self._agent = self._load()
            return self._agent

    def instruct(self, analysis, on_reply=None):
        return self.loaded().instruct(analysis, on_reply)

    def describe(self) -> dict:
        """The agent's own description once loaded; before that, its name only."""
        return self._agent.describe() if self._agent is not None else {"name": self.name, "loaded": False}
