"""Stage 2 of AVI-Talking: speech-content encoder, content-irrelevant style space, motion decoder.

    content  = ContentEncoder(speech features)        # (B, T, content_dim): what the lips say
    style    = StyleEncoder(motion)                   # (B, style_dim) on the unit sphere: how the face moves
    motion   = MotionDecoder(content, style)          # (B, T, 52) ARKit weights
    style'   = InstructionProjector(text embedding)   # the instruction, aligned to the style space (soft-CLIP)

Everything is convolutional over time, so any length runs and long clips can be cut into windows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ..arkit import ARKIT_NAMES
from .content_features import NUM_CONTENT_FEATURES
from .text_encoder import TEXT_EMBEDDING_DIM


@dataclass
class StyleContentConfig:
    content_features: int = NUM_CONTENT_FEATURES
    motion_channels: int = len(ARKIT_NAMES)
    text_dim: int = TEXT_EMBEDDING_DIM
    content_dim: int = 128
    style_dim: int = 128  # the paper's style code size
    hidden: int = 160
    kernel: int = 5
    content_dilations: tuple[int, ...] = (1, 2, 4, 8, 1, 2)  # ±36 frames: about ±1.4 s of context at 25 fps
    decoder_dilations: tuple[int, ...] = (1, 2, 4, 1)
    style_dilations: tuple[int, ...] = (1, 2, 4)
    dropout: float = 0.1

    def to_dict(self) -> dict:
        return asdict(self)

    def receptive_field(self) -> int:
        """Frames on each side that can change a decoded frame (content encoder, then decoder)."""
        return (self.kernel // 2) * (sum(self.content_dilations) + sum(self.decoder_dilations))

    @classmethod
    def from_dict(cls, values: dict) -> "StyleContentConfig":
        values = dict(values)
        for key in ("content_dilations", "decoder_dilations", "style_dilations"):
            values[key] = tuple(values[key])
        return cls(**values)


class DepthwiseTemporalConv(nn.Module):
    """Per-channel dilated convolution over time written as a sum of shifted copies: the same maths
    as a grouped Conv1d, but its backward pass is several times faster on CPU."""

    def __init__(self, width: int, kernel: int, dilation: int) -> None:
        super().__init__()
        self.kernel, self.dilation = kernel, dilation
        self.weight = nn.Parameter(torch.randn(kernel, width) / kernel)
        self.bias = nn.Parameter(torch.zeros(width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, width)
        frames, pad = x.shape[1], self.dilation * (self.kernel // 2)
        # The ends repeat the first and last frame: zeros there read as "not silence" and left the
        # mouth ajar at the start of every clip.
        padded = torch.cat([x[:, :1].expand(-1, pad, -1), x, x[:, -1:].expand(-1, pad, -1)], dim=1)
        out = self.bias
        for j in range(self.kernel):
            out = out + self.weight[j] * padded[:, j * self.dilation: j * self.dilation + frames]
        return out


class ResidualConv(nn.Module):
    """Pre-norm block: depthwise dilated convolution over time, then a per-frame MLP (ConvNeXt-like,
    a third of the cost of a full convolution on CPU); optional FiLM from a per-frame condition."""

    def __init__(self, width: int, kernel: int, dilation: int, dropout: float, condition_dim: int = 0) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.conv = DepthwiseTemporalConv(width, kernel, dilation)
        self.mlp = nn.Sequential(nn.Linear(width, width), nn.GELU(), nn.Linear(width, width))
        self.dropout = nn.Dropout(dropout)
        self.film = nn.Linear(condition_dim, 2 * width) if condition_dim else None

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        h = self.norm(x)  # (B, T, width)
        if self.film is not None:
            scale, shift = self.film(condition).chunk(2, dim=-1)
            h = h * (1 + scale) + shift
        h = self.conv(h)
        return x + self.dropout(self.mlp(h))


class ContentEncoder(nn.Module):
    """Phone occupancy + prosody per frame → content features; sees no style input at all."""

    def __init__(self, cfg: StyleContentConfig) -> None:
        super().__init__()
        self.inp = nn.Linear(cfg.content_features, cfg.hidden)
        self.blocks = nn.ModuleList(ResidualConv(cfg.hidden, cfg.kernel, d, cfg.dropout) for d in cfg.content_dilations)
        self.out = nn.Linear(cfg.hidden, cfg.content_dim)

    def forward(self, features: torch.Tensor) -> torch.Tensor:  # (B, T, F) → (B, T, content_dim)
        x = self.inp(features)
        for block in self.blocks:
            x = block(x)
        return self.out(x)


class StyleEncoder(nn.Module):
    """Motion → one style code per clip: temporal convolutions, then mean and std pooling over time."""

    def __init__(self, cfg: StyleContentConfig) -> None:
        super().__init__()
        self.inp = nn.Linear(cfg.motion_channels, cfg.hidden)
        self.blocks = nn.ModuleList(ResidualConv(cfg.hidden, cfg.kernel, d, cfg.dropout) for d in cfg.style_dilations)
        self.out = nn.Sequential(nn.Linear(2 * cfg.hidden, cfg.hidden), nn.GELU(), nn.Linear(cfg.hidden, cfg.style_dim))

    def forward(self, motion: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = self.inp(motion)  # (B, T, hidden)
        for block in self.blocks:
            x = block(x)
        if mask is None:
            mask = torch.ones(x.shape[:2], device=x.device)
        w = (mask / mask.sum(1, keepdim=True).clamp(min=1)).unsqueeze(-1)
        mean = (x * w).sum(1)
        std = (((x - mean.unsqueeze(1)) ** 2) * w).sum(1).clamp(min=1e-6).sqrt()
        return F.normalize(self.out(torch.cat([mean, std], dim=-1)), dim=-1)


class MotionDecoder(nn.Module):
    """Content (per frame) + style (per frame, so styles can crossfade between segments) → ARKit weights."""

    def __init__(self, cfg: StyleContentConfig) -> None:
        super().__init__()
        self.inp = nn.Linear(cfg.content_dim, cfg.hidden)
        self.blocks = nn.ModuleList(
            ResidualConv(cfg.hidden, cfg.kernel, d, cfg.dropout, condition_dim=cfg.style_dim) for d in cfg.decoder_dilations)
        self.style_bias = nn.Linear(cfg.style_dim, cfg.hidden)
        self.out = nn.Linear(cfg.hidden, cfg.motion_channels)

    def forward(self, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        if style.dim() == 2:  # one code per clip → every frame
            style = style.unsqueeze(1).expand(-1, content.shape[1], -1)
        x = self.inp(content) + self.style_bias(style)
        for block in self.blocks:
            x = block(x, style)
        return self.out(x)  # (B, T, 52), unclamped while training


class InstructionProjector(nn.Module):
    """The paper's MLP from the instruction's text embedding to the style space."""

    def __init__(self, cfg: StyleContentConfig) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(cfg.text_dim, 2 * cfg.hidden), nn.GELU(), nn.Dropout(cfg.dropout),
                                 nn.Linear(2 * cfg.hidden, cfg.style_dim))

    def forward(self, text_embedding: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.net(text_embedding), dim=-1)


class StyleContentModel(nn.Module):
    def __init__(self, cfg: StyleContentConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.content_encoder = ContentEncoder(cfg)
        self.style_encoder = StyleEncoder(cfg)
        self.decoder = MotionDecoder(cfg)
        self.instruction_projector = InstructionProjector(cfg)
        # Learned temperature of the contrastive alignment, as in CLIP.
        self.logit_scale = nn.Parameter(torch.tensor(2.6593))

    def forward(self, features: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.content_encoder(features), style)
