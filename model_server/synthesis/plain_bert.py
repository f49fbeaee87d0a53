"""A BERT encoder's forward pass in plain torch, read from a transformers folder (config.json,
model.safetensors, tokenizer.json), for the sentence encoder that reads instructions.

The model process would otherwise import transformers' modelling code for it (about 2.5 s of the first
learned-synthesis request, and about 150 MB). The tests compare it with transformers' BertModel.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from tokenizers import Tokenizer
from torch.nn import functional as F

from ..errors import InputError
from ..safetensors_reader import read_safetensors


class PlainBert:
    """Final token states (B, T, hidden) of a BertModel, and its tokenizer's padded batches."""

    def __init__(self, folder: Path, max_tokens: int) -> None:
        folder = Path(folder)
        config = json.loads((folder / "config.json").read_text())
        if config.get("position_embedding_type", "absolute") != "absolute" or config.get("hidden_act") != "gelu":
            raise InputError(f"{folder}: only BERT encoders with absolute positions and GELU are supported")
        self.heads, self.eps = config["num_attention_heads"], config["layer_norm_eps"]
        weights = read_safetensors(folder / "model.safetensors")
        self.weights = {name: t.float() for name, t in weights.items() if t.is_floating_point()}  # not position_ids
        self.layers = config["num_hidden_layers"]
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_tokens)
        self.tokenizer.enable_padding(pad_id=config.get("pad_token_id", 0))  # to the batch's longest text

    def batch(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, T) token ids and (B, T) attention mask, [CLS] … [SEP] and padding."""
        encoded = self.tokenizer.encode_batch(texts)
        return torch.tensor([e.ids for e in encoded]), torch.tensor([e.attention_mask for e in encoded])

    @torch.inference_mode()
    def states(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        w = self.weights
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:ids.shape[1]]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = self._norm(x, "embeddings.LayerNorm")
        attend = mask.bool()[:, None, None, :]  # (B, 1, 1, T): padding is never attended to
        for i in range(self.layers):
            prefix = f"encoder.layer.{i}."
            q, k, v = (self._heads(self._dense(x, f"{prefix}attention.self.{n}")) for n in ("query", "key", "value"))
            attended = F.scaled_dot_product_attention(q, k, v, attn_mask=attend).transpose(1, 2).reshape(x.shape)
            x = self._norm(self._dense(attended, f"{prefix}attention.output.dense") + x,
                           f"{prefix}attention.output.LayerNorm")
            inner = F.gelu(self._dense(x, f"{prefix}intermediate.dense"))
            x = self._norm(self._dense(inner, f"{prefix}output.dense") + x, f"{prefix}output.LayerNorm")
        return x

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, hidden) → (B, heads, T, hidden / heads)."""
        return x.view(*x.shape[:2], self.heads, -1).transpose(1, 2)

    def _dense(self, x: torch.Tensor, name: str) -> torch.Tensor:
        return F.linear(x, self.weights[f"{name}.weight"], self.weights[f"{name}.bias"])

    def _norm(self, x: torch.Tensor, name: str) -> torch.Tensor:
        return F.layer_norm(x, x.shape[-1:], self.weights[f"{name}.weight"], self.weights[f"{name}.bias"], self.eps)
