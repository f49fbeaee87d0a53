"""Emotion recognition of motion: multinomial logistic regression on per-channel statistics.

Trained on ground-truth motions with their emotion labels; its accuracy on generated motion says
whether the generated face shows the emotion the instruction asked for.
Features: mean and std over time of each of the 52 channels (blinks at 0, as ground truth has none),
standardised with the training set's statistics.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .metrics import without_blinks

L2 = 1e-2
STEPS = 500
LEARNING_RATE = 0.5


def motion_features(arkit: np.ndarray) -> np.ndarray:
    """(104,) per-channel mean and std over time of a (T, 52) motion."""
    w = without_blinks(arkit)
    return np.concatenate([w.mean(axis=0), w.std(axis=0)])


@dataclass
class EmotionClassifier:
    labels: list[str]
    mean: np.ndarray  # (F,)
    scale: np.ndarray  # (F,)
    weights: np.ndarray  # (F, C)
    bias: np.ndarray  # (C,)

    @classmethod
    def fit(cls, motions: list[np.ndarray], labels: list[str]) -> "EmotionClassifier":
        """Full-batch gradient descent on the L2-regularised cross-entropy (convex: it converges)."""
        names = sorted(set(labels))
        x = np.stack([motion_features(m) for m in motions])
        mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
        x = (x - mean) / scale
        y = np.eye(len(names))[[names.index(label) for label in labels]]  # (N, C)
        w, b = np.zeros((x.shape[1], len(names))), np.zeros(len(names))
        for _ in range(STEPS):
            p = _softmax(x @ w + b)
            w -= LEARNING_RATE * (x.T @ (p - y) / len(x) + L2 * w)
            b -= LEARNING_RATE * (p - y).mean(axis=0)
        return cls(names, mean, scale, w, b)

    def predict(self, motions: list[np.ndarray]) -> list[str]:
        x = (np.stack([motion_features(m) for m in motions]) - self.mean) / self.scale
        return [self.labels[i] for i in np.argmax(x @ self.weights + self.bias, axis=1)]

    def accuracy(self, motions: list[np.ndarray], labels: list[str]) -> float:
        return float(np.mean([p == t for p, t in zip(self.predict(motions), labels)]))


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
