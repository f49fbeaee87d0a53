"""Synthesis models by name: what `--synthesis` and the API's `synthesis` field choose from.

The Blender add-on imports this module too (for the names and the default), so it stays
stdlib-only at import time: each factory imports its model when called.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..config import ASSETS_DIR
from ..errors import InputError

LEARNED_WEIGHTS_DIR = ASSETS_DIR / "models" / "synthesis"


def _baseline():
    from .baseline import BaselineArticulator

    return BaselineArticulator()


def _learned(weights_dir: Path = LEARNED_WEIGHTS_DIR):
    from .learned import LearnedSynthesizer

    return LearnedSynthesizer.load(weights_dir)


SYNTHESIZERS: dict[str, Callable[[], object]] = {"learned": _learned, "baseline": _baseline}
# The one place the default is chosen (pipeline config, CLI, API, and the add-on's enum read it).
# The baseline, by one figure: the learned model speaks with the rules' lips (rule_lips.py), so on real
# recordings (python -m model_server.eval.evaluate_real_speech) every lip figure is the baseline's, and it
# reads free text as well (evaluate_paraphrases) with more varied takes; but on real speech its expression
# varies a little less over time under an aroused instruction (evaluate_nonverbal: 0.063 against 0.065),
# and the default must not fall below the baseline on any figure. The learned model is one argument away.
DEFAULT_SYNTHESIS = "baseline"
# Classifier-free guidance of the learned model's diffusion prior when a request names none. 1 is the
# plain conditional model: on held-out clips it gave the lowest lip error and the most varied takes
# (LVE 8.6 / 9.0 / 9.5 mm² at 1 / 1.5 / 2, from python -m model_server.eval.style_sources); higher
# values push styles past what the instruction asks.
DEFAULT_GUIDANCE = 1.0


def load_synthesizer(name: str):
    """A ready synthesizer; raises InputError naming the choices for an unknown name."""
    try:
        factory = SYNTHESIZERS[name]
    except KeyError:
        shown = repr(name[:40]) + ("…" if len(name) > 40 else "")  # a client's string, never echoed whole
        raise InputError(f"unknown synthesis model {shown}; available: {', '.join(SYNTHESIZERS)}") from None
    return factory()
