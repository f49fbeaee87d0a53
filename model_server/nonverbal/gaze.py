"""Where the eyes look: eye contact and look-aways of a speaking person, as saccades between fixations
(Lee, Badler & Badler's "Eyes Alive" statistics, behaviour.py), both eyes together.

Gaze is (yaw, pitch) in radians in the head's frame (head.py's axes): yaw + to the speaker's left,
pitch + down, the same signs as Live Link Face's eye columns. The contact direction is where the
listener (the camera, or another character) is; a look-away is a saccade from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..arkit import ARKIT_INDEX, ARKIT_NAMES
from .accents import LONG_PAUSE_S, Phrase
from .behaviour import (AWAY_DIRECTIONS, BROW_FOLLOW_UP, EYE_LOOK_PITCH_RAD, EYE_LOOK_YAW_RAD, LID_FOLLOW,
                        FACE_FIXATION_S, FACE_POINTS_DEG, SACCADE_D0_S, SACCADE_D_PER_DEG_S, SACCADE_MAX_DEG, SACCADE_MEAN_DEG,
                        SACCADE_MIN_DEG, GazeStyle)

INTERPUPIL_M = 0.063


@dataclass(frozen=True)
class GazeControls:
    """Where eye contact is (`contact`: yaw, pitch radians) and the grammar's gaze phrases (strengths 0..1)."""

    contact: tuple[float, float] = (0.0, 0.0)
    down: float = 0.0
    away: float = 0.0
    steady: float = 0.0


@dataclass(frozen=True)
class Fixation:
    start: float  # seconds: when the saccade to it starts
    yaw: float  # radians
    pitch: float
    contact: bool


def _away_direction(rng: np.random.Generator, style: GazeStyle, controls: GazeControls) -> tuple[float, float]:
    weights = np.array([w for _, _, w in AWAY_DIRECTIONS])
    if controls.down > 0:  # "looks down": the look-aways go down
        weights = weights * np.array([1 + 3 * controls.down * (dp > 0) for _, dp, _ in AWAY_DIRECTIONS])
    yaw_sign, pitch_sign, _ = AWAY_DIRECTIONS[rng.choice(len(weights), p=weights / weights.sum())]
    magnitude = np.clip(rng.exponential(SACCADE_MEAN_DEG), SACCADE_MIN_DEG, SACCADE_MAX_DEG)
    norm = np.hypot(yaw_sign, pitch_sign)
    return np.radians(magnitude * yaw_sign / norm), np.radians(magnitude * pitch_sign / norm)


def plan_fixations(phrases: list[Phrase], duration: float,
                   style_at: Callable[[float], tuple[GazeStyle, GazeControls]],
                   rng: np.random.Generator) -> list[Fixation]:
    """Eye contact and look-aways over the clip: away as an utterance starts after a pause (planning) and
    in long pauses (thinking), back to contact as a phrase ends, alternating by the style's shares between.
    `style_at(time)`: the gaze style and controls of the instruction that holds at that time."""

    def contact_at(t: float) -> Fixation:
        return Fixation(t, contact_yaw, contact_pitch + base_pitch, True)

    def face_point_at(t: float) -> Fixation:  # another point of the face than the one looked at
        last = fixations[-1]
        choices = [(yaw, pitch) for yaw, pitch in FACE_POINTS_DEG
                   if not (np.isclose(contact_yaw + np.radians(yaw), last.yaw)
                           and np.isclose(contact_pitch + base_pitch + np.radians(pitch), last.pitch))]
        yaw, pitch = choices[rng.integers(len(choices))]
        return Fixation(t, contact_yaw + np.radians(yaw), contact_pitch + base_pitch + np.radians(pitch), True)

    def away_at(t: float) -> Fixation:
        yaw, pitch = _away_direction(rng, style, controls)
        return Fixation(t, contact_yaw + yaw, contact_pitch + base_pitch + pitch, False)

    style, controls = style_at(0.0)
    contact_yaw, contact_pitch = controls.contact
    base_pitch = np.radians(style.pitch_bias_deg + 10.0 * controls.down)
    fixations = [contact_at(0.0)]
    t = 0.0
    for phrase in phrases:
        style, controls = style_at(phrase.start)
        contact_share = np.clip(style.contact + 0.3 * controls.steady - 0.35 * controls.away, 0.1, 0.95)
        away_s = style.away_s
        base_pitch = np.radians(style.pitch_bias_deg + 10.0 * controls.down)
        # Planning: look away just before or as the utterance starts.
        if phrase.pause_before >= LONG_PAUSE_S and rng.random() < style.avert_at_start * (1 - 0.7 * controls.steady):
            fixations.append(away_at(max(t, phrase.start - 0.2)))
            t = phrase.start + rng.gamma(2.0, away_s / 2)
            fixations.append(contact_at(t))
        t = max(t, phrase.start)
        # Within a phrase: fixations on the listener's face (its eyes and mouth), and after each, a
        # look-away with the chance that makes the time shares come out as the style's contact share.
        fixation_s = FACE_FIXATION_S * (1 + controls.steady)
        away_chance = min(1.0, fixation_s * (1 - contact_share) / (contact_share * away_s))
        while True:
            t += rng.gamma(2.0, fixation_s / 2)
            if t >= phrase.end - 0.2:
                break
            if rng.random() >= away_chance:
                fixations.append(face_point_at(t))
                continue
            fixations.append(away_at(t))
            t += rng.gamma(2.0, away_s / 2)
            fixations.append(contact_at(min(t, phrase.end)))
        # Back to eye contact as the phrase ends; a long pause after it is for thinking: look away.
        t = max(t, phrase.end - 0.1)
        if not fixations[-1].contact:
            fixations.append(contact_at(t))
        after = [p.start for p in phrases if p.start > phrase.end]
        if after and after[0] - phrase.end >= LONG_PAUSE_S and rng.random() < 0.5 + 0.4 * controls.away:
            fixations.append(away_at(phrase.end + 0.3))
            t = after[0] - 0.25
            fixations.append(contact_at(t))
    return [f for f in fixations if f.start < duration]


def gaze_curves(fixations: list[Fixation], num_frames: int, fps: float) -> np.ndarray:
    """(T, 2) yaw and pitch: each saccade moves the eyes in D = D0 + d·A seconds, a smooth ramp."""
    times = np.arange(num_frames) / fps
    gaze = np.zeros((num_frames, 2))
    if not fixations:
        return gaze
    gaze[:] = (fixations[0].yaw, fixations[0].pitch)
    for before, after in zip(fixations, fixations[1:]):
        step = np.array([after.yaw - before.yaw, after.pitch - before.pitch])
        amplitude = np.degrees(np.hypot(*step))
        length = SACCADE_D0_S + SACCADE_D_PER_DEG_S * amplitude
        ramp = np.clip((times - after.start) / length, 0, 1)
        gaze += (ramp * ramp * (3 - 2 * ramp))[:, None] * step
    return gaze


def eye_angles(gaze: np.ndarray, distance: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Each eye's (T, 2) yaw and pitch. Conjugate: both eyes turn together; a near target adds the
    vergence of eyes INTERPUPIL_M apart (each turns in by atan(half the distance between them / distance))."""
    left, right = gaze.copy(), gaze.copy()
    if distance is not None:  # (T,) metres to the target, or None for far away
        vergence = np.arctan2(INTERPUPIL_M / 2, np.asarray(distance, dtype=np.float64))
        left[:, 0] -= vergence  # the left eye turns toward the nose: to the speaker's right
        right[:, 0] += vergence
    return left, right


def eye_look_weights(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """(T, 52) ARKit weights of the eyeLook channels and the lids that follow the gaze: looking down
    lowers the upper lids a little (eyeBlink), looking up widens the eyes a little."""
    weights = np.zeros((len(left), len(ARKIT_NAMES)))
    for eye, side, outward in ((left, "Left", 1.0), (right, "Right", -1.0)):
        # Yaw + (to the speaker's left) is outward for the left eye and inward for the right eye.
        horizontal = eye[:, 0] * outward / EYE_LOOK_YAW_RAD
        vertical = eye[:, 1] / EYE_LOOK_PITCH_RAD
        weights[:, ARKIT_INDEX[f"eyeLookOut{side}"]] = np.clip(horizontal, 0, 1)
        weights[:, ARKIT_INDEX[f"eyeLookIn{side}"]] = np.clip(-horizontal, 0, 1)
        weights[:, ARKIT_INDEX[f"eyeLookDown{side}"]] = np.clip(vertical, 0, 1)
        weights[:, ARKIT_INDEX[f"eyeLookUp{side}"]] = np.clip(-vertical, 0, 1)
        weights[:, ARKIT_INDEX[f"eyeBlink{side}"]] = LID_FOLLOW * np.clip(vertical, 0, 1)
        weights[:, ARKIT_INDEX[f"eyeWide{side}"]] = BROW_FOLLOW_UP * np.clip(-vertical, 0, 1)
    return weights
