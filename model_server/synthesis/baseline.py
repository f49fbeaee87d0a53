"""The BASELINE synthesizer: visemes + coarticulation for the lips, rules for the expression layer.

Not the paper's learned stage 2; the reference it must beat and the default until it ships.
Content (lip motion) comes from phone timing and loudness; style (expression) from the instruction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

from ..agent.grammar import StyleControls, parse_instruction
from ..arkit import ARKIT_INDEX, ARKIT_NAMES
from ..audio.types import SpeechAnalysis
from ..curves import num_frames_for
from .blinks import blink_curve
from .closure import close_lips
from .coarticulation import blend_visemes
from .jaw import jaw_pose_from_arkit
from .style_layer import prosodic_brows, style_tracks_for_controls

SMOOTHING_S = 0.02
TAKE_JITTER = 0.08  # relative spread of expression strength between takes (seeds)
_I = ARKIT_INDEX


@dataclass
class Articulation:
    arkit: np.ndarray  # (T, 52) ARKit weights in [0, 1]
    jaw: np.ndarray  # (T, 3) jaw axis-angle in radians; +x opens the mouth


class BaselineArticulator:
    name = "baseline-dominance-visemes"

    def describe(self) -> dict:
        return {"name": self.name, "kind": "baseline"}

    def synthesize(self, analysis: SpeechAnalysis, segments: list[dict], *, seed: int, fps: float,
                   guidance: float | None = None, sampled: bool = True, blinks: bool = True) -> Articulation:
        """`sampled`: expression strength varied by `seed` (False: exactly as the instruction says)."""
        controls = [parse_instruction(seg["instruction"]) for seg in segments]
        return self.articulate(analysis, segments, controls, seed=seed, fps=fps, blinks=blinks,
                               take_jitter=TAKE_JITTER if sampled else 0.0)

    def articulate(self, analysis: SpeechAnalysis, segments: list[dict], controls: list[StyleControls], *,
                   seed: int, fps: float, blinks: bool = True, take_jitter: float = TAKE_JITTER) -> Articulation:
        """Articulation for style controls given directly, one per segment (only start/end of segments are read).

        Training targets use blinks=False (blinks are random in time; every model gets the same ones
        afterwards) and take_jitter=0 (the face follows the controls exactly).
        """
        duration = analysis.audio.duration
        frames = num_frames_for(duration, fps)
        phones = analysis.alignment.phones
        prosody = analysis.prosody
        if len(prosody.loudness_norm) != frames:
            raise ValueError(f"prosody has {len(prosody.loudness_norm)} frames at {prosody.fps} fps, need {frames} at {fps}")
        rng = np.random.default_rng(seed)

        mouth, jaw_target = blend_visemes(phones, frames, fps)
        style, jaw_scale, energy = style_tracks_for_controls(controls, segments, frames, fps)
        # Per-take variation: the same instruction with another seed varies a little in strength.
        style *= 1.0 + take_jitter * rng.standard_normal(len(ARKIT_NAMES))

        loud = prosody.loudness_norm
        jaw_open = jaw_target * (0.65 + 0.6 * loud) * jaw_scale * (0.75 + 0.25 * energy)
        mouth = mouth * (0.7 + 0.3 * energy)[:, None]
        sigma = max(0.5, SMOOTHING_S * fps)
        mouth = gaussian_filter1d(mouth, sigma, axis=0, mode="nearest")
        jaw_open = gaussian_filter1d(jaw_open, sigma, mode="nearest")

        arkit = mouth + style
        arkit[:, _I["jawOpen"]] = jaw_open
        brows = prosodic_brows(prosody, energy) * (1.0 - np.clip(style[:, _I["browDownLeft"]], 0, 1))
        for name in ("browInnerUp", "browOuterUpLeft", "browOuterUpRight"):
            arkit[:, _I[name]] += brows
        if blinks:
            blink = blink_curve(duration, frames, fps, phones, seed)
            for name in ("eyeBlinkLeft", "eyeBlinkRight"):
                arkit[:, _I[name]] = np.maximum(arkit[:, _I[name]], blink)
        arkit = np.clip(arkit, 0.0, 1.0)

        arkit = close_lips(arkit, phones, fps)  # lips touch at /p b m/ whatever the style did to the mouth

        return Articulation(arkit=arkit, jaw=jaw_pose_from_arkit(arkit))
