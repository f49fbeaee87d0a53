"""BLIP-2's Q-Former forward pass for query tokens alone, in plain torch, for inference.

Training builds transformers' Blip2QFormerModel (its initialisation is part of how the shipped weights are
reproduced); serving loads the same weights into this module, whose parameters carry the same names, so
the model process never imports transformers' modelling code (about 2.5 s of a cold start). The tests
compare the two on the shipped weights.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

LAYER_NORM_EPS = 1e-12  # Blip2QFormerConfig's default


class _Attention(nn.Module):
    """Multi-head attention with BLIP-2's names: attention.{query,key,value}, output.{dense,LayerNorm}."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.attention = nn.Module()
        for name in ("query", "key", "value"):
            self.attention.add_module(name, nn.Linear(width, width))
        self.output = _Output(width, width)

    def forward(self, x: torch.Tensor, context: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        split = lambda t: t.view(*t.shape[:2], self.heads, -1).transpose(1, 2)  # noqa: E731
        q, k, v = (split(getattr(self.attention, n)(s)) for n, s in (("query", x), ("key", context), ("value", context)))
        attended = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.output(attended.transpose(1, 2).reshape(x.shape), x)


class _Output(nn.Module):
    """dense, then LayerNorm over it plus the residual."""

    def __init__(self, inputs: int, width: int) -> None:
        super().__init__()
        self.dense = nn.Linear(inputs, width)
        self.LayerNorm = nn.LayerNorm(width, eps=LAYER_NORM_EPS)  # noqa: N815 - BLIP-2's parameter name

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(x) + residual)


class _Layer(nn.Module):
    def __init__(self, width: int, heads: int, intermediate: int) -> None:
        super().__init__()
        self.attention = _Attention(width, heads)
        self.crossattention = _Attention(width, heads)
        self.intermediate_query = nn.Module()
        self.intermediate_query.add_module("dense", nn.Linear(width, intermediate))
        self.output_query = _Output(intermediate, width)

    def forward(self, queries: torch.Tensor, speech: torch.Tensor, speech_mask: torch.Tensor) -> torch.Tensor:
        x = self.attention(queries, queries, None)
        x = self.crossattention(x, speech, speech_mask)
        return self.output_query(F.gelu(self.intermediate_query.dense(x)), x)


class PlainQFormer(nn.Module):
    """Queries (B, K, width) cross-attending in every layer to speech (B, T, width) → (B, K, width)."""

    def __init__(self, width: int, layers: int, heads: int, intermediate: int) -> None:
        super().__init__()
        self.layernorm = nn.LayerNorm(width, eps=LAYER_NORM_EPS)
        self.encoder = nn.Module()
        self.encoder.layer = nn.ModuleList(_Layer(width, heads, intermediate) for _ in range(layers))

    def forward(self, queries: torch.Tensor, speech: torch.Tensor, speech_mask: torch.Tensor) -> torch.Tensor:
        """speech_mask (B, T): 1 on real frames."""
        attend = speech_mask.bool()[:, None, None, :]  # (B, 1, 1, T): every head and query alike
        x = self.layernorm(queries)
        for layer in self.encoder.layer:
            x = layer(x, speech, attend)
        return x
