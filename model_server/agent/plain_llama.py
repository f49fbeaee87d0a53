"""The agent's language model at inference: a Llama-architecture decoder in plain torch, read straight from
a transformers model directory (config.json, model.safetensors).

Why not transformers' own model: importing its modelling code costs about 2.5 s of a cold start (it pulls in
torch.distributed), and each of its forward passes spends milliseconds more in Python around the maths,
which the agent's many small passes pay again and again. This module computes the same thing (the tests
compare it with transformers' LlamaForCausalLM) with one key/value cache the decoder manages itself.

Training still uses transformers and peft; the adapters they save (lora.safetensors) are merged here.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch.nn import functional as F

from ..errors import InputError
from ..safetensors_reader import read_safetensors
from .llama_shape import LlamaShape, read_shape

PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
ATTENTION = PROJECTIONS[:4]


class KeyValueCache:
    """Per layer, the keys and values of every position fed so far: (batch, kv_heads, positions, head_dim)."""

    def __init__(self, layers: list[tuple[torch.Tensor, torch.Tensor]] | None = None) -> None:
        self.layers = layers or []

    @property
    def length(self) -> int:
        return self.layers[0][0].shape[2] if self.layers else 0

    def extend(self, layer: int, keys: torch.Tensor, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if layer == len(self.layers):
            self.layers.append((keys, values))
        else:
            old_keys, old_values = self.layers[layer]
            self.layers[layer] = (torch.cat([old_keys, keys], 2), torch.cat([old_values, values], 2))
        return self.layers[layer]

    def crop(self, drop: int) -> None:
        """Forget the last `drop` positions."""
        self.layers = [(k[:, :, :-drop], v[:, :, :-drop]) for k, v in self.layers]

    def select(self, rows: torch.Tensor) -> None:
        self.layers = [(k[rows], v[rows]) for k, v in self.layers]

    def padded_left(self, width: int) -> "KeyValueCache":
        pad = lambda t: F.pad(t, (0, 0, width - t.shape[2], 0))  # noqa: E731
        return KeyValueCache([(pad(k), pad(v)) for k, v in self.layers])

    @classmethod
    def joined(cls, caches: list["KeyValueCache"], order: torch.Tensor) -> "KeyValueCache":
        """The caches' rows stacked, then taken in `order`."""
        return cls([(torch.cat([c.layers[i][0] for c in caches])[order], torch.cat([c.layers[i][1] for c in caches])[order])
                    for i in range(len(caches[0].layers))])


class PlainLlama:
    """Inference only, batch-first. `hidden_states` feeds new positions through every layer and extends the
    cache; `logits` projects final states onto the vocabulary. Weights are plain tensors (no autograd)."""

    def __init__(self, shape: LlamaShape, weights: dict[str, torch.Tensor]) -> None:
        self.shape = shape
        self.embedding = torch.nn.Embedding.from_pretrained(weights["model.embed_tokens.weight"], freeze=True)
        self.output = weights.get("lm_head.weight", weights["model.embed_tokens.weight"])  # tied in SmolLM2
        self.final_norm = weights["model.norm.weight"]
        self.blocks = []
        for i in range(shape.layers):
            block = {"input_norm": weights[f"model.layers.{i}.input_layernorm.weight"],
                     "post_norm": weights[f"model.layers.{i}.post_attention_layernorm.weight"]}
            for name in PROJECTIONS:
                block[name] = weights[f"{projection_name(i, name)}.weight"]
            self.blocks.append(block)
        half = torch.arange(0, shape.head_dim, 2, dtype=torch.float32) / shape.head_dim
        self.inverse_frequencies = 1.0 / shape.rope_theta ** half

    @classmethod
    def load(cls, folder: Path) -> "PlainLlama":
        folder = Path(folder)
        shape = read_shape(folder)
        files = sorted(folder.glob("*.safetensors"))
        if not files:
            raise InputError(f"{folder} holds no .safetensors weights (a transformers directory saved with "
                             "safe_serialization, the default)")
        weights = {}
        for file in files:  # read, not mapped: adapters merged into a projection leave no second copy behind
            weights.update({name: tensor.float() for name, tensor in read_safetensors(file).items()})
        return cls(shape, weights)

    @property
    def dtype(self) -> torch.dtype:
        return self.output.dtype

    def get_input_embeddings(self) -> torch.nn.Embedding:
        return self.embedding

    def merge_lora(self, adapters: dict[str, torch.Tensor], scale: float) -> None:
        """Add peft's low-rank adapters (lora.safetensors) into the projections: W += scale · B A."""
        merged = 0
        for i, block in enumerate(self.blocks):
            for name in PROJECTIONS:
                key = f"base_model.model.{projection_name(i, name)}"  # as peft saves them
                if f"{key}.lora_A.weight" in adapters:
                    down, up = adapters[f"{key}.lora_A.weight"].float(), adapters[f"{key}.lora_B.weight"].float()
                    block[name] += scale * (up @ down)
                    merged += 1
        if merged * 2 != len(adapters):
            raise InputError(f"the low-rank adapters name {len(adapters) // 2} projections; {merged} of them "
                             "are in this language model")

    def to(self, dtype: torch.dtype) -> "PlainLlama":
        """A copy whose weights are `dtype`. Only the matrix products run in it: the states between them
        (norms, rotary positions, attention, the residual sums) stay float32, whose rounding errors
        would otherwise add up over 30 layers."""
        copy = object.__new__(PlainLlama)
        copy.shape, copy.inverse_frequencies = self.shape, self.inverse_frequencies
        copy.embedding = torch.nn.Embedding.from_pretrained(self.embedding.weight.to(dtype), freeze=True)
        tied = self.output.data_ptr() == self.embedding.weight.data_ptr()
        copy.output = copy.embedding.weight if tied else self.output.to(dtype)
        copy.final_norm = self.final_norm
        copy.blocks = [{name: tensor if "norm" in name else tensor.to(dtype) for name, tensor in block.items()}
                       for block in self.blocks]
        return copy

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        return self.embedding(ids)

    @torch.inference_mode()
    def hidden_states(self, inputs: torch.Tensor, positions: torch.Tensor, attend: torch.Tensor,
                      cache: KeyValueCache) -> torch.Tensor:
        """inputs (B, T, hidden) embeddings at `positions` (B, T); attend (B, T, cached + T) bool: which
        cached and new positions each new one sees (it must see at least one). Returns the final-norm
        states (B, T, hidden) and extends `cache` by T positions."""
        shape = self.shape
        batch, new = inputs.shape[:2]
        angles = positions[..., None].float() * self.inverse_frequencies  # (B, T, head_dim / 2)
        angles = torch.cat([angles, angles], -1)[:, None]  # (B, 1, T, head_dim), as transformers lays them out
        cos, sin = angles.cos(), angles.sin()
        mask = attend[:, None]
        x = inputs.float()
        for layer, block in enumerate(self.blocks):
            h = _rms_norm(x, block["input_norm"], shape.norm_eps)
            q = _linear(h, block["q_proj"]).view(batch, new, shape.heads, shape.head_dim).transpose(1, 2)
            k = _linear(h, block["k_proj"]).view(batch, new, shape.kv_heads, shape.head_dim).transpose(1, 2)
            v = _linear(h, block["v_proj"]).view(batch, new, shape.kv_heads, shape.head_dim).transpose(1, 2)
            q, k = q * cos + _rotate_half(q) * sin, k * cos + _rotate_half(k) * sin
            keys, values = cache.extend(layer, k, v)
            attended = F.scaled_dot_product_attention(q, keys, values, attn_mask=mask, enable_gqa=shape.kv_heads != shape.heads)
            x = x + _linear(attended.transpose(1, 2).reshape(batch, new, -1), block["o_proj"])
            h = _rms_norm(x, block["post_norm"], shape.norm_eps)
            x = x + _linear(F.silu(_linear(h, block["gate_proj"])) * _linear(h, block["up_proj"]), block["down_proj"])
        return _rms_norm(x, self.final_norm, shape.norm_eps)

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """float32 vocabulary logits of final states (..., hidden). Contiguous first: projecting a strided
        slice in bfloat16 copied the vocabulary's weights per row."""
        return _linear(hidden.contiguous(), self.output)


def projection_name(layer: int, projection: str) -> str:
    """transformers' name of a layer's projection ("model.layers.3.self_attn.q_proj")."""
    return f"model.layers.{layer}.{'self_attn' if projection in ATTENTION else 'mlp'}.{projection}"


def causal_attend(mask: torch.Tensor, new: int) -> torch.Tensor:
    """(B, new, S) bool from a (B, S) mask of attendable positions whose last `new` are being fed: each new
    position sees the attendable ones up to itself, and always itself (a padding position seeing nothing
    would give NaN states that later leak into real ones through the cache)."""
    total = mask.shape[1]
    causal = torch.ones(new, total, dtype=torch.bool).tril(total - new)
    attend = mask.bool()[:, None, :] & causal[None]
    attend[:, torch.arange(new), torch.arange(total - new, total)] = True
    return attend


def _linear(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """x Wᵀ in the weight's dtype, returned float32."""
    return F.linear(x.to(weight.dtype), weight).float()


def _rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    # As transformers' LlamaRMSNorm: the variance in float32 whatever the dtype.
    wide = x.float()
    return weight * (wide * torch.rsqrt(wide.pow(2).mean(-1, keepdim=True) + eps)).to(x.dtype)


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    first, second = x.chunk(2, dim=-1)
    return torch.cat([-second, first], dim=-1)
