"""Where the learned agent's files are, and whether they are there: checked without loading torch, so the
model process can refuse a bad setting before it says it is ready."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from .llama_shape import read_shape

CONFIG_FILE, ADAPTER_FILE = "config.json", "qformer.safetensors"


def check_agent_files(weights_dir: Path, lm_path: Path | None) -> None:
    """InputError unless the adapter (and the language model directory, when one is named) are there."""
    if not (Path(weights_dir) / CONFIG_FILE).is_file():
        raise InputError(f"no learned agent weights in {weights_dir}; train them with "
                         "python -m model_server.train.train_agent, or use --agent baseline")
    if lm_path is not None:
        if not (Path(lm_path) / "config.json").is_file():
            raise InputError(f"{lm_path} is not a transformers model directory (no config.json)")
        read_shape(lm_path)  # a model the agent cannot run is refused now, not after loading it
