"""Low-rank adapters (LoRA, with peft) on the language model's attention, trained with the Q-Former.

A frozen 135M model steered by a soft prompt alone learns the instruction grammar slowly and reads
the transcript's emotion weakly; rank-8 adapters on its attention projections (about 0.9 M weights)
let it learn both in a few hundred steps while its own weights stay untouched. The adapters are saved
beside the Q-Former and merged into the agent's plain copy of the language model when it loads
(plain_llama), so generation costs the same as with the plain model.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

from safetensors.torch import load_file, save_file

LORA_FILE = "lora.safetensors"


@dataclass
class LoraSettings:
    rank: int = 8
    alpha: int = 16
    targets: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])

    def to_dict(self) -> dict:
        return asdict(self)

    def peft_config(self):
        from peft import LoraConfig

        return LoraConfig(r=self.rank, lora_alpha=self.alpha, target_modules=list(self.targets), lora_dropout=0.0,
                          bias="none", task_type="CAUSAL_LM")


def add_lora(lm, settings: LoraSettings):
    """The language model wrapped with trainable adapters; its own weights stay frozen."""
    from peft import get_peft_model

    with warnings.catch_warnings():  # peft asks transformers a deprecated question; nothing for a user to do
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        return get_peft_model(lm, settings.peft_config())


def save_lora(out: Path, peft_lm) -> None:
    from peft import get_peft_model_state_dict

    state = {k: v.detach().contiguous() for k, v in get_peft_model_state_dict(peft_lm).items()}
    save_file(state, Path(out) / LORA_FILE)


def load_lora(peft_lm, weights_dir: Path) -> None:
    """Set the adapters saved in weights_dir into a language model wrapped by add_lora."""
    from peft import set_peft_model_state_dict

    set_peft_model_state_dict(peft_lm, load_file(Path(weights_dir) / LORA_FILE))


def merge_lora(plain_lm, settings: dict, weights_dir: Path) -> None:
    """Merge the adapters saved in weights_dir into a PlainLlama's projections, W += (alpha / rank) · B A,
    as peft's merge_and_unload would: generation then costs the same as with the plain model."""
    lora = LoraSettings(**settings)
    plain_lm.merge_lora(load_file(Path(weights_dir) / LORA_FILE), lora.alpha / lora.rank)
