"""The expression (style) layer: instruction controls and prosody → upper face and mouth corners.

Style scales how much the mouth moves but never when: lip timing belongs to the content layer.
"""

from __future__ import annotations

import numpy as np

from ..arkit import ARKIT_INDEX, ARKIT_NAMES
from ..agent.grammar import ACTION_KEYS, StyleControls
from ..audio.types import Prosody

CROSSFADE_S = 0.3  # style changes between segments ease over this long

# Each facial action → ARKit weights it drives at full strength.
ACTION_SHAPES: dict[str, dict[str, float]] = {
    "brow_lowered": {"browDownLeft": 0.9, "browDownRight": 0.9},
    "inner_brow_raised": {"browInnerUp": 0.9},
    "outer_brow_raised": {"browOuterUpLeft": 0.85, "browOuterUpRight": 0.85, "browInnerUp": 0.3},
    "cheek_raised": {"cheekSquintLeft": 0.8, "cheekSquintRight": 0.8, "eyeSquintLeft": 0.25, "eyeSquintRight": 0.25},
    "eyes_widened": {"eyeWideLeft": 0.85, "eyeWideRight": 0.85},
    "eyes_narrowed": {"eyeSquintLeft": 0.75, "eyeSquintRight": 0.75},
    "nose_wrinkled": {"noseSneerLeft": 0.85, "noseSneerRight": 0.85},
    "upper_lip_raised": {"mouthUpperUpLeft": 0.45, "mouthUpperUpRight": 0.45, "noseSneerLeft": 0.2, "noseSneerRight": 0.2},
    "lip_corners_up": {"mouthSmileLeft": 0.85, "mouthSmileRight": 0.85, "mouthDimpleLeft": 0.2, "mouthDimpleRight": 0.2},
    "lip_corners_down": {"mouthFrownLeft": 0.85, "mouthFrownRight": 0.85, "mouthShrugLower": 0.3},
    "lip_stretched": {"mouthStretchLeft": 0.7, "mouthStretchRight": 0.7},
    "lip_pressed": {"mouthPressLeft": 0.7, "mouthPressRight": 0.7, "mouthRollLower": 0.15},
    "lip_puckered": {"mouthPucker": 0.5},
}
# Contempt is one-sided: the subject's left corner only.
_ONE_SIDED = {"contempt": {"mouthSmileLeft": 0.5, "mouthDimpleLeft": 0.4, "mouthSmileRight": -0.3}}


def _shape_matrix() -> np.ndarray:
    matrix = np.zeros((len(ACTION_KEYS), len(ARKIT_NAMES)))
    for row, key in enumerate(ACTION_KEYS):
        for name, value in ACTION_SHAPES[key].items():
            matrix[row, ARKIT_INDEX[name]] = value
    return matrix


_SHAPES = _shape_matrix()  # (actions, 52)


def segment_weights(segments: list[dict], num_frames: int, fps: float, crossfade: float = CROSSFADE_S) -> np.ndarray:
    """(T, S) how much each segment's style holds at each frame; rows sum to 1, smooth at boundaries
    (each boundary eases over `crossfade` seconds centred on it)."""
    times = np.arange(num_frames) / fps
    weights = np.zeros((num_frames, len(segments)))
    for i, seg in enumerate(segments):
        start = -np.inf if i == 0 else seg["start"]
        end = np.inf if i == len(segments) - 1 else seg["end"]
        rise = np.clip((times - start) / crossfade + 0.5, 0, 1)
        fall = np.clip((end - times) / crossfade + 0.5, 0, 1)
        weights[:, i] = _smoothstep(np.minimum(rise, fall))
    return weights / np.maximum(weights.sum(axis=1, keepdims=True), 1e-9)


def _smoothstep(x: np.ndarray) -> np.ndarray:
    return x * x * (3 - 2 * x)


def style_tracks_for_controls(controls: list[StyleControls], segments: list[dict], num_frames: int,
                              fps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame expression offsets (T, 52), jaw scale (T,), energy (T,) from each segment's controls
    (one per segment; only the segments' start and end are read), crossfaded between segments."""
    if len(controls) != len(segments):
        raise ValueError(f"{len(controls)} style controls for {len(segments)} segments")
    weights = segment_weights(segments, num_frames, fps)
    vectors = np.array([c.vector() for c in controls])  # (S, actions + 2)
    per_frame = weights @ vectors
    offsets = per_frame[:, : len(ACTION_KEYS)] @ _SHAPES
    for i, c in enumerate(controls):
        for name, value in _ONE_SIDED.get(c.emotion, {}).items():
            offsets[:, ARKIT_INDEX[name]] += weights[:, i] * value * (c.intensity / 3)
    return offsets, per_frame[:, -2], per_frame[:, -1]


def prosodic_brows(prosody: Prosody, energy: np.ndarray) -> np.ndarray:
    """(T,) brief brow raises on pitch accents and loud peaks, scaled by speaking energy."""
    f0 = prosody.f0
    voiced = f0 > 0
    if voiced.sum() < 3:
        return np.zeros_like(f0)
    semitones = np.zeros_like(f0)
    semitones[voiced] = 12 * np.log2(f0[voiced] / np.median(f0[voiced]))
    accent = np.clip((semitones - 1.5) / 4.0, 0, 1) * prosody.voicing
    raise_ = np.maximum(accent, 0.5 * np.clip((prosody.loudness_norm - 0.8) / 0.2, 0, 1))
    kernel = np.hanning(max(3, int(round(0.3 * prosody.fps)) | 1))
    # "full" then the centred part: mode="same" returns the kernel's length when the clip is shorter.
    half = (len(kernel) - 1) // 2
    smooth = np.convolve(raise_, kernel / kernel.sum(), mode="full")[half:half + len(raise_)]
    return np.clip(smooth * 0.45 * energy, 0, 1)


