"""An instruction's parsed controls as numbers: the diffusion prior's second condition beside the text embedding.

The sentence encoder places "slightly lowered brows" and "fairly lowered brows" close together, so a
prior reading only the embedding blurs the degrees the animator asked for. The grammar's parser reads
them exactly. Free text outside the grammar parses to whatever cues it holds (neutral when none), and
the text embedding carries the rest.
"""

from __future__ import annotations

import numpy as np

from ..agent.grammar import ACTION_KEYS, EMOTIONS, StyleControls, parse_instruction

CONTROL_FEATURES = len(ACTION_KEYS) + 2 + len(EMOTIONS) + 1


def controls_features(controls: StyleControls) -> np.ndarray:
    """(CONTROL_FEATURES,) action strengths, jaw and energy as offsets from 1, emotion one-hot, intensity / 3."""
    emotion = np.zeros(len(EMOTIONS), np.float32)
    emotion[EMOTIONS.index(controls.emotion)] = 1.0
    actions = [controls.actions.get(k, 0.0) for k in ACTION_KEYS]
    return np.concatenate([np.array(actions + [controls.jaw_scale - 1.0, controls.energy - 1.0], np.float32),
                           emotion, np.array([controls.intensity / 3.0], np.float32)])


def instruction_controls(texts: list[str]) -> np.ndarray:
    """(N, CONTROL_FEATURES) for instruction texts."""
    return np.stack([controls_features(parse_instruction(t)) for t in texts]) if texts else \
        np.zeros((0, CONTROL_FEATURES), np.float32)
