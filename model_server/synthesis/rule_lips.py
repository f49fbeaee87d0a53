"""The rules' lips under the learned model's face: why the learned stage 2 cannot articulate worse.

The learned decoder was trained on motion whose lips are the rules' (baseline.py), and a regression
toward their mean gives a blurred copy: smaller openings, less rounding, fewer tucked /f v/. So the
content path of the learned stage 2 is the rules' articulation itself, with its full excursions and
exact timing, under the instruction as the rules read it (jaw scale and energy included); the decoder
gives everything else: the expression that its style space, text embedding and diffusion prior shape.

LIP_CHANNELS are every channel the lip figures read (synthesis/metrics.lip_aperture, the /f v/ tuck,
rounding) and every one a viseme shapes apart from the spread of the lips (stretch and smile, which
carry expression as much as speech). Takes of one instruction share these channels exactly: the rules'
take-to-take jitter is left out, so only the expression varies between takes.
"""

from __future__ import annotations

import numpy as np

from ..agent.grammar import parse_instruction
from ..arkit import ARKIT_INDEX
from ..audio.types import SpeechAnalysis
from .baseline import BaselineArticulator

LIP_CHANNEL_NAMES = ("jawOpen", "mouthClose", "mouthFunnel", "mouthPucker", "mouthRollLower", "mouthRollUpper",
                     "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight",
                     "mouthShrugUpper", "tongueOut")
LIP_CHANNELS = [ARKIT_INDEX[name] for name in LIP_CHANNEL_NAMES]


def with_rule_lips(face: np.ndarray, analysis: SpeechAnalysis, segments: list[dict], *, seed: int,
                   fps: float) -> np.ndarray:
    """(T, 52) float64: `face` at the scene's rate with its LIP_CHANNELS replaced by the rules' articulation
    of the same segments (float64 like the rules', so the lips are theirs to the last bit)."""
    controls = [parse_instruction(seg["instruction"]) for seg in segments]
    rules = BaselineArticulator().articulate(analysis, segments, controls, seed=seed, fps=fps, blinks=False,
                                             take_jitter=0.0).arkit
    if rules.shape != face.shape:
        raise ValueError(f"the face has {face.shape} weights and the rules' lips {rules.shape}")
    out = np.array(face, dtype=np.float64, copy=True)
    out[:, LIP_CHANNELS] = rules[:, LIP_CHANNELS]
    return out
