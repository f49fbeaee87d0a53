"""A take that is alive: the synthesizer's face with a moving expression, head motion and gaze, as layers
that add up exactly to what plays.

    lips        the same speech, seed and synthesizer under a neutral instruction, without blinks
    expression  what the instruction changes, made to move (expression.py), lips closed again at /p b m/
    eyes        the eyeLook channels of the gaze, and the lids that follow it (gaze.py)
    blinks      what the synthesizer's blinks add

The head's rotation and translation and each eye's angles travel beside the weights (curves `head` and
`eyes`). Works on either synthesizer: it reads only its output and the speech analysis.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..agent.grammar import StyleControls, parse_instruction, without_motion_phrases
from ..audio.types import SpeechAnalysis
from ..synthesis.closure import close_lips
from ..synthesis.jaw import jaw_pose_from_arkit
from ..synthesis.layers import NEUTRAL_INSTRUCTION
from ..synthesis.style_layer import segment_weights
from .accents import find_accents, find_phrases
from .behaviour import behaviour_for
from .expression import arousal_envelope, course, emphasis, variation
from .gaze import GazeControls, eye_angles, eye_look_weights, gaze_curves, plan_fixations
from .head import HeadControls, head_motion, orientation_toward

MAX_HEAD_MOTION = 2.0


@dataclass(frozen=True)
class GazeTarget:
    """Where eye contact is: a direction (yaw, pitch radians in the head's frame; (0, 0) straight ahead,
    the camera of a face turned to it) and, for a point in space, its distance in metres. A moving target
    (another character who walks) has a `track`: (yaw, pitch, distance) samples spread evenly over the clip."""

    yaw: float = 0.0
    pitch: float = 0.0
    distance: float | None = None
    track: tuple[tuple[float, float, float], ...] = ()

    @staticmethod
    def _direction(point) -> tuple[float, float, float]:
        x, y, z = (float(v) for v in point)
        distance = float(np.sqrt(x * x + y * y + z * z))
        if distance < 1e-3:
            raise ValueError("the gaze target point is at the eyes")
        return float(np.arctan2(x, z)), float(np.arctan2(-y, np.hypot(x, z))), distance

    @classmethod
    def from_point(cls, point: tuple[float, float, float]) -> "GazeTarget":
        """A point in the head's frame (x to the speaker's left, y up, z forward), metres."""
        return cls(*cls._direction(point))

    @classmethod
    def from_points(cls, points: list) -> "GazeTarget":
        """Points in the head's frame sampled evenly from the clip's start to its end (a moving target)."""
        track = tuple(cls._direction(point) for point in points)
        return cls(*track[0], track=track) if len(track) > 1 else cls(*track[0])

    def per_frame(self, frames: int) -> tuple[np.ndarray, np.ndarray | None]:
        """((T, 2) contact yaw and pitch, (T,) distance or None) at every frame."""
        if not self.track:
            contact = np.tile([self.yaw, self.pitch], (frames, 1))
            return contact, None if self.distance is None else np.full(frames, self.distance)
        samples = np.array(self.track)
        where = np.linspace(0, 1, len(samples))
        at = np.linspace(0, 1, frames) if frames > 1 else np.zeros(1)
        values = np.stack([np.interp(at, where, samples[:, i]) for i in range(3)], axis=1)
        return values[:, :2], values[:, 2]


@dataclass(frozen=True)
class NonverbalOptions:
    head_motion: float = 1.0  # 0 exactly still, 1 as the voice and instruction say, up to 2
    gaze: GazeTarget = field(default_factory=GazeTarget)


@dataclass
class AliveTake:
    arkit: np.ndarray  # (T, 52) what plays
    jaw: np.ndarray  # (T, 3) jaw axis-angle, radians
    layers: dict[str, np.ndarray]  # lips, expression, eyes, blinks: (T, 52) each, adding up to `arkit`
    head_rotation: np.ndarray  # (T, 3) pitch, yaw, roll radians (head.py)
    head_translation: np.ndarray  # (T, 3) metres
    left_eye: np.ndarray  # (T, 2) yaw, pitch radians (gaze.py)
    right_eye: np.ndarray  # (T, 2)


def steadied(eye: np.ndarray, head_rotation: np.ndarray) -> np.ndarray:
    """(T, 2) eye yaw and pitch that keep their target while the head turns (the vestibulo-ocular reflex):
    the gaze is planned in the world, so the head's own yaw and pitch are taken off (small angles)."""
    return eye - head_rotation[:, [1, 0]]


def _ramp(controls: StyleControls) -> float:
    return controls.motion.get("rising", 0.0) - controls.motion.get("falling", 0.0)


def alive_take(synthesizer, analysis: SpeechAnalysis, segments: list[dict], *, seed: int, fps: float,
               guidance: float | None, sampled: bool, options: NonverbalOptions = NonverbalOptions()) -> AliveTake:
    face_segments = [dict(s, instruction=without_motion_phrases(s["instruction"])) for s in segments]
    synth = dict(seed=seed, fps=fps, guidance=guidance)
    take = synthesizer.synthesize(analysis, face_segments, sampled=sampled, **synth)
    no_blinks = synthesizer.synthesize(analysis, face_segments, sampled=sampled, blinks=False, **synth)
    neutral = [dict(s, instruction=NEUTRAL_INSTRUCTION) for s in segments]
    lips = synthesizer.synthesize(analysis, neutral, sampled=False, blinks=False, **synth).arkit

    frames = len(lips)
    prosody, phones = analysis.prosody, analysis.alignment.phones
    accents, phrases = find_accents(phones, prosody), find_phrases(phones)
    controls = [parse_instruction(s["instruction"]) for s in segments]
    behaviours = [behaviour_for(c.emotion) for c in controls]
    weights = segment_weights(segments, frames, fps)  # (T, S) each segment's share of each frame

    # Expression: its course, its breathing with the voice, a little wander, and the accents marked.
    intensity = weights @ np.array([c.intensity / 3 for c in controls])
    breathing = weights @ np.array([b.expression.breathing for b in behaviours])
    level = course(phrases, segments, [_ramp(c) for c in controls], frames, fps)
    level = level * (1 + breathing * arousal_envelope(prosody))
    expression = variation(no_blinks.arkit - lips, fps, seed) * level[:, None]
    for share, behaviour in zip(weights.T, behaviours):
        expression += share[:, None] * emphasis(accents, behaviour.expression.emphasis, frames, fps,
                                                (0.4 + 0.6 * intensity) * level)

    # Gaze: one plan of fixations, each phrase with its own segment's style and phrases.
    def gaze_style_at(time: float):
        index = min(int(np.argmax(weights[min(frames - 1, int(time * fps))])), len(segments) - 1)
        motion = controls[index].motion
        return behaviours[index].gaze, GazeControls((0.0, 0.0), motion.get("gaze_down", 0.0),
                                                     motion.get("gaze_away", 0.0), motion.get("gaze_steady", 0.0))

    # The plan is made about eye contact straight ahead, then carried to the target, frame by frame.
    rng = np.random.default_rng([seed, 0x6A2E])
    fixations = plan_fixations(phrases, frames / fps, gaze_style_at, rng)
    contact, distance = options.gaze.per_frame(frames)
    left, right = eye_angles(gaze_curves(fixations, frames, fps) + contact, distance)

    # Head: each segment's style and phrases over the whole clip, cross-faded by the segments' shares.
    rotation, translation = np.zeros((frames, 3)), np.zeros((frames, 3))
    for share, behaviour, control in zip(weights.T, behaviours, controls):
        head = HeadControls(options.head_motion, control.motion.get("nodding", 0.0),
                            control.motion.get("head_still", 0.0), control.motion.get("head_tilted", 0.0),
                            control.energy)
        part_rotation, part_translation = head_motion(accents, phrases, frames, fps, behaviour.head, head, seed)
        rotation += share[:, None] * part_rotation
        translation += share[:, None] * part_translation

    turning = weights @ np.array([min(1.0, options.head_motion) * (1.0 - c.motion.get("head_still", 0.0))
                                  for c in controls])
    rotation += orientation_toward(contact, turning)  # a target far to the side: the head turns toward it
    left, right = steadied(left, rotation), steadied(right, rotation)

    # Layers, each what it adds to the one below, so that they sum exactly to what plays.
    with_expression = close_lips(np.clip(lips + expression, 0, 1), phones, fps)
    with_eyes = np.clip(with_expression + eye_look_weights(left, right), 0, 1)
    played = np.clip(with_eyes + (take.arkit - no_blinks.arkit), 0, 1)
    layers = {"lips": lips, "expression": with_expression - lips, "eyes": with_eyes - with_expression,
              "blinks": played - with_eyes}
    return AliveTake(played, jaw_pose_from_arkit(played), layers, rotation, translation, left, right)
