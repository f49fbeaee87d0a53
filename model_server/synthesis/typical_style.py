"""The typical style an instruction asks for: a regression from the instruction to the expected style code.

An instruction leaves part of a face's style open (degree words cover bands, and faces vary inside
them), so every diffusion-prior draw lands somewhere inside that spread and pays its variance in lip
error. The expected style, the centre of the spread, is the best single answer when nothing else
is known: it is take 1 of every request, and the prior's draws are the takes after it.

It reads what the prior reads (the instruction's sentence embedding and the controls the grammar
parses from it). Training fits it in two steps (train_synthesis stages C and D): by least squares to
the style codes of the training motions (their conditional mean), then through the frozen decoder
to the motions themselves, scored on the lips. The second step matters because the decoder is not
linear: the mean code does not decode to the mean motion.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

from .instruction_controls import CONTROL_FEATURES
from .text_encoder import TEXT_EMBEDDING_DIM


@dataclass
class TypicalStyleConfig:
    style_dim: int = 128
    text_dim: int = TEXT_EMBEDDING_DIM
    controls_dim: int = CONTROL_FEATURES
    hidden: int = 512
    dropout: float = 0.1

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TypicalStyleConfig":
        return cls(**values)


class TypicalStyleHead(nn.Module):
    def __init__(self, cfg: TypicalStyleConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.net = nn.Sequential(
            nn.Linear(cfg.text_dim + cfg.controls_dim, cfg.hidden), nn.GELU(), nn.Dropout(cfg.dropout),
            nn.Linear(cfg.hidden, cfg.hidden), nn.GELU(), nn.Dropout(cfg.dropout),
            nn.Linear(cfg.hidden, cfg.style_dim),
        )

    def mean_code(self, text: torch.Tensor, controls: torch.Tensor) -> torch.Tensor:
        """(B, style_dim) the typical style code, before normalising."""
        return self.net(torch.cat([text, controls], dim=-1))

    def loss(self, codes: torch.Tensor, text: torch.Tensor, controls: torch.Tensor) -> torch.Tensor:
        return ((self.mean_code(text, controls) - codes) ** 2).sum(-1).mean()

    def forward(self, text: torch.Tensor, controls: torch.Tensor) -> torch.Tensor:
        """(B, style_dim) unit-norm style codes, on the sphere where the style encoder's codes live."""
        return F.normalize(self.mean_code(text, controls), dim=-1)
