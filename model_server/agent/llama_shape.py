"""The sizes of a Llama-architecture language model, read from its config.json, and the reasons one cannot
run in plain_llama. No torch here: the model process checks a `--lm` directory before it says it is ready."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError

ARCHITECTURES = ("LlamaForCausalLM",)


@dataclass(frozen=True)
class LlamaShape:
    hidden_size: int
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    rope_theta: float
    norm_eps: float
    vocab_size: int

    @classmethod
    def from_config(cls, config: dict, source: str = "config.json") -> "LlamaShape":
        architectures = config.get("architectures") or []
        if not set(architectures) & set(ARCHITECTURES):
            raise InputError(f"{source}: the agent runs Llama-architecture language models (SmolLM, Llama); "
                             f"this one is {', '.join(architectures) or 'of no named architecture'}")
        rope = config.get("rope_parameters") or {}
        for settings in (rope, config.get("rope_scaling") or {}):  # transformers 5 names it rope_parameters
            kind = settings.get("rope_type", settings.get("type", "default"))
            if kind != "default":
                raise InputError(f"{source}: rotary scaling {kind!r} is not supported")
        if config.get("attention_bias") or config.get("mlp_bias"):
            raise InputError(f"{source}: biases on the attention or feed-forward layers are not supported")
        heads = config["num_attention_heads"]
        return cls(hidden_size=config["hidden_size"], layers=config["num_hidden_layers"], heads=heads,
                   kv_heads=config.get("num_key_value_heads") or heads,
                   head_dim=config.get("head_dim") or config["hidden_size"] // heads,
                   rope_theta=float(rope.get("rope_theta", config.get("rope_theta", 10_000.0))),
                   norm_eps=float(config.get("rms_norm_eps", 1e-6)), vocab_size=config["vocab_size"])


def read_shape(folder: Path) -> LlamaShape:
    """The shape in folder/config.json; InputError for a model plain_llama cannot run."""
    config_file = Path(folder) / "config.json"
    return LlamaShape.from_config(json.loads(config_file.read_text()), str(config_file))
