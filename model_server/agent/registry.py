"""Instruction agents by name, and which one a process uses unless told otherwise."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import InputError

AGENTS = ("baseline", "learned", "endpoint")
DEFAULT_AGENT = "learned"
API_KEY_ENV = "AVI_TALKING_AGENT_API_KEY"  # read for the endpoint agent, so the key stays off command lines


def load_agent(name: str, *, url: str | None = None, model: str | None = None, lm: Path | None = None,
               weights: Path | None = None):
    """The agent called `name`. The endpoint agent needs the URL of an OpenAI-compatible API (…/v1); the
    learned one reads its adapter from `weights` and may run on another language model directory `lm`."""
    if name == "learned":
        from ..config import LEARNED_AGENT_DIR  # late: config reads this module's defaults
        from .qformer_agent import QFormerInstructionAgent

        return QFormerInstructionAgent.load(weights or LEARNED_AGENT_DIR, lm_path=lm)
    if name == "baseline":
        from .baseline import BaselineInstructionAgent

        return BaselineInstructionAgent()
    if name == "endpoint":
        from .endpoint import EndpointInstructionAgent

        if not url:
            raise InputError("the endpoint agent needs --agent-url, the root of an OpenAI-compatible API "
                             "such as http://127.0.0.1:8080/v1")
        return EndpointInstructionAgent(url, model or "default", api_key=os.environ.get(API_KEY_ENV))
    raise InputError(f"unknown instruction agent {name!r}; available: {', '.join(AGENTS)}")
