"""DALL·E-2-style diffusion prior: instruction text embedding → style code.

A transformer denoiser reads [instruction embedding, projected instruction, parsed controls,
timestep, noisy style code, query] tokens and predicts the clean code (DALL·E 2 predicts x0 too). Noise schedules and
sampling steps come from diffusers' DDPMScheduler. Classifier-free guidance: the text tokens are
replaced by learned null tokens for a fraction of training samples, and at sampling time the
conditional prediction is pushed away from the unconditional one by `guidance`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from diffusers import DDPMScheduler
from torch import nn
from torch.nn import functional as F

from ..cancel_scope import check_cancelled
from .instruction_controls import CONTROL_FEATURES
from .registry import DEFAULT_GUIDANCE
from .text_encoder import TEXT_EMBEDDING_DIM


@dataclass
class DiffusionPriorConfig:
    style_dim: int = 128
    text_dim: int = TEXT_EMBEDDING_DIM
    controls_dim: int = CONTROL_FEATURES
    width: int = 128  # narrower than DALL·E 2's: the whole prior trains in minutes on two CPU cores
    depth: int = 6  # the paper's prior: depth 6, 8 heads, 100 timesteps
    heads: int = 8
    timesteps: int = 100
    condition_drop: float = 0.1  # share of training samples without text, for classifier-free guidance
    default_guidance: float = DEFAULT_GUIDANCE

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "DiffusionPriorConfig":
        return cls(**values)

    def scheduler(self) -> DDPMScheduler:
        return DDPMScheduler(num_train_timesteps=self.timesteps, beta_schedule="squaredcos_cap_v2",
                             prediction_type="sample", clip_sample=False)


def timestep_embedding(timesteps: torch.Tensor, dim: int) -> torch.Tensor:
    half = dim // 2
    freqs = torch.exp(-math.log(10_000) * torch.arange(half, dtype=torch.float32, device=timesteps.device) / half)
    angles = timesteps.float()[:, None] * freqs[None, :]
    return torch.cat([angles.sin(), angles.cos()], dim=-1)


class DiffusionPriorNetwork(nn.Module):
    def __init__(self, cfg: DiffusionPriorConfig) -> None:
        super().__init__()
        self.cfg = cfg
        w = cfg.width
        self.text_in = nn.Linear(cfg.text_dim, w)
        self.projected_in = nn.Linear(cfg.style_dim, w)
        self.controls_in = nn.Linear(cfg.controls_dim, w)
        self.time_in = nn.Sequential(nn.Linear(w, w), nn.SiLU(), nn.Linear(w, w))
        self.code_in = nn.Linear(cfg.style_dim, w)
        self.null_text = nn.Parameter(torch.zeros(3, w))  # stands in for the instruction's tokens when dropped
        self.query = nn.Parameter(torch.randn(w) * 0.02)
        self.positions = nn.Parameter(torch.randn(6, w) * 0.02)
        layer = nn.TransformerEncoderLayer(w, cfg.heads, 4 * w, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.transformer = nn.TransformerEncoder(layer, cfg.depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(w)
        self.out = nn.Linear(w, cfg.style_dim)

    def forward(self, noisy_code: torch.Tensor, timesteps: torch.Tensor, text: torch.Tensor,
                projected: torch.Tensor, controls: torch.Tensor, keep_text: torch.Tensor) -> torch.Tensor:
        """Predicted clean code (B, style_dim). keep_text (B,) bool: False → the null condition."""
        b = noisy_code.shape[0]
        text_tokens = torch.stack([self.text_in(text), self.projected_in(projected), self.controls_in(controls)], dim=1)
        null = self.null_text.unsqueeze(0).expand(b, -1, -1)
        text_tokens = torch.where(keep_text[:, None, None], text_tokens, null)
        time = self.time_in(timestep_embedding(timesteps, self.cfg.width)).unsqueeze(1)
        tokens = torch.cat([text_tokens, time, self.code_in(noisy_code).unsqueeze(1),
                            self.query.expand(b, 1, -1)], dim=1) + self.positions
        return self.out(self.norm(self.transformer(tokens)[:, -1]))


class DiffusionPrior(nn.Module):
    """Training loss and guided sampling around the denoiser.

    Style codes live on the unit sphere; the diffusion runs on code * sqrt(style_dim) so each
    dimension has about unit variance, as the noise schedule expects.
    """

    def __init__(self, cfg: DiffusionPriorConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.net = DiffusionPriorNetwork(cfg)
        self.scheduler = cfg.scheduler()
        self.scale = math.sqrt(cfg.style_dim)

    def loss(self, codes: torch.Tensor, text: torch.Tensor, projected: torch.Tensor, controls: torch.Tensor) -> torch.Tensor:
        x0 = codes * self.scale
        noise = torch.randn_like(x0)
        t = torch.randint(0, self.cfg.timesteps, (x0.shape[0],), device=x0.device)
        noisy = self.scheduler.add_noise(x0, noise, t)
        keep = torch.rand(x0.shape[0], device=x0.device) >= self.cfg.condition_drop
        return F.mse_loss(self.net(noisy, t, text, projected, controls, keep), x0)

    @torch.inference_mode()
    def sample(self, text: torch.Tensor, projected: torch.Tensor, controls: torch.Tensor, *, guidance: float | None = None,
               generator: torch.Generator | None = None, initial: torch.Tensor | None = None) -> torch.Tensor:
        """(B, style_dim) unit-norm style codes for (B, text_dim) instruction embeddings, their
        (B, style_dim) projections and (B, controls_dim) parsed controls.

        `initial` (B, style_dim) is the starting noise, when each row should have its own seed;
        otherwise it is drawn from `generator`, which also draws the noise of every step.
        """
        guidance = self.cfg.default_guidance if guidance is None else guidance
        b = text.shape[0]
        scheduler = self.cfg.scheduler()
        scheduler.set_timesteps(self.cfg.timesteps)
        x = torch.randn(b, self.cfg.style_dim, generator=generator) if initial is None else initial.clone()
        condition = [torch.cat([c, c]) for c in (text, projected, controls)]  # conditional and null halves
        keep = torch.cat([torch.ones(b, dtype=torch.bool), torch.zeros(b, dtype=torch.bool)])
        for t in scheduler.timesteps:
            check_cancelled()  # a hundred steps over many segments: Cancel must not wait for them all
            steps = torch.full((2 * b,), int(t), dtype=torch.long)
            conditional, unconditional = self.net(torch.cat([x, x]), steps, *condition, keep).chunk(2)
            x0 = unconditional + guidance * (conditional - unconditional)
            x = scheduler.step(x0, t, x, generator=generator).prev_sample
        return F.normalize(x, dim=-1)
