"""Speech → a fixed number of soft-prompt tokens for a language model (the paper's stage 1 adapter).

    frame features ─ SpeechEncoder (temporal convolutions + positions) ─┐
                                                                        ├─ Q-Former: K learnable queries
    K query tokens ─────────────────────────────────────────────────────┘  cross-attending to the speech
        → (K, lm_hidden) soft prompt for the language model, and one pooled (text_dim,) speech embedding
          aligned contrastively with the sentence embedding of the clip's instruction.

The Q-Former is transformers' BLIP-2 one (Blip2QFormerModel): any length of speech becomes K tokens.
Training builds it; serving builds plain_qformer's copy of its forward pass (`plain=True`), which loads the
same weights without importing transformers.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ..synthesis.text_encoder import TEXT_EMBEDDING_DIM
from .plain_qformer import PlainQFormer
from .speech_features import NUM_AGENT_FEATURES


@dataclass
class SpeechQFormerConfig:
    lm_hidden: int  # input-embedding width of the language model the soft prompt feeds
    features: int = NUM_AGENT_FEATURES
    width: int = 256
    queries: int = 8
    layers: int = 2
    heads: int = 4
    text_dim: int = TEXT_EMBEDDING_DIM
    dropout: float = 0.1

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "SpeechQFormerConfig":
        return cls(**values)


def sinusoidal_positions(frames: int, width: int, device=None) -> torch.Tensor:
    """(frames, width) positions at 25 fps: the Q-Former's cross-attention has none of its own."""
    half = width // 2
    freqs = torch.exp(-math.log(10_000) * torch.arange(half, dtype=torch.float32, device=device) / half)
    angles = torch.arange(frames, dtype=torch.float32, device=device)[:, None] * freqs[None]
    return torch.cat([angles.sin(), angles.cos()], dim=-1)


class SpeechEncoder(nn.Module):
    """(B, T, features) → (B, T, width): local context (±0.3 s) around each frame, plus its position."""

    def __init__(self, cfg: SpeechQFormerConfig) -> None:
        super().__init__()
        self.inp = nn.Linear(cfg.features, cfg.width)
        self.convs = nn.ModuleList(nn.Conv1d(cfg.width, cfg.width, 5, padding=2 * d, dilation=d) for d in (1, 2))
        self.norm = nn.LayerNorm(cfg.width)

    @property
    def reach(self) -> int:
        """Frames on each side of a frame that reach its output through the convolutions."""
        return sum(conv.dilation[0] * (conv.kernel_size[0] - 1) // 2 for conv in self.convs)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        x = self.inp(features)
        for conv in self.convs:
            x = x + F.gelu(conv(x.transpose(1, 2)).transpose(1, 2))
        return self.norm(x + sinusoidal_positions(x.shape[1], x.shape[2], x.device))


class SpeechQFormer(nn.Module):
    def __init__(self, cfg: SpeechQFormerConfig, plain: bool = False) -> None:
        """`plain`: the inference-only Q-Former (plain_qformer) in place of transformers' trainable one."""
        super().__init__()
        self.cfg = cfg
        self.speech = SpeechEncoder(cfg)
        self.queries = nn.Parameter(torch.randn(1, cfg.queries, cfg.width) * 0.02)
        self.plain = plain
        self.qformer = PlainQFormer(cfg.width, cfg.layers, cfg.heads, 4 * cfg.width) if plain else _blip2_qformer(cfg)
        self.to_lm = nn.Linear(cfg.width, cfg.lm_hidden)
        self.to_text = nn.Linear(cfg.width, cfg.text_dim)

    def query_states(self, features: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """(B, T, features), mask (B, T) of real frames → (B, K, width)."""
        speech = self.speech(features)
        queries = self.queries.expand(len(features), -1, -1)
        mask = mask if mask is not None else torch.ones(speech.shape[:2], device=speech.device)
        if self.plain:
            return self.qformer(queries, speech, mask)
        return self.qformer(query_embeds=queries, encoder_hidden_states=speech,
                            encoder_attention_mask=mask.long()).last_hidden_state

    def soft_prompt(self, states: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
        """(B, K, lm_hidden) tokens for the language model's input embeddings; `scale` matches the
        typical norm of that model's own token embeddings."""
        return self.to_lm(states) * scale

    def speech_embedding(self, states: torch.Tensor) -> torch.Tensor:
        """(B, text_dim) unit-norm summary of the speech, in the sentence encoder's space."""
        return F.normalize(self.to_text(states.mean(dim=1)), dim=-1)


def _blip2_qformer(cfg: SpeechQFormerConfig):
    from transformers import Blip2QFormerConfig, Blip2QFormerModel

    return Blip2QFormerModel(Blip2QFormerConfig(
        hidden_size=cfg.width, num_hidden_layers=cfg.layers, num_attention_heads=cfg.heads,
        intermediate_size=4 * cfg.width, encoder_hidden_size=cfg.width, cross_attention_frequency=1,
        hidden_dropout_prob=cfg.dropout, attention_probs_dropout_prob=cfg.dropout))
