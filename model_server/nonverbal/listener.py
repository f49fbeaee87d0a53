"""A face that listens while another character speaks: blinks, eye contact on the speaker with an
occasional look-away (listeners look at the speaker about 75 % of the time: Argyle & Cook 1976), small
nods as the speaker's phrases end (back-channel nods), a relaxed closed mouth, and a subdued echo of the
speaker's emotion. Made from the speaker's phones and instruction alone: the listener says nothing.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..agent.grammar import parse_instruction
from ..arkit import ARKIT_INDEX, ARKIT_NAMES
from ..audio.types import Phone
from ..curves import num_frames_for
from ..synthesis.blinks import blink_curve
from ..synthesis.style_layer import style_tracks_for_controls
from .accents import Phrase, find_phrases
from .behaviour import NEUTRAL_GAZE, NEUTRAL_HEAD
from .compose import AliveTake, NonverbalOptions, steadied
from .gaze import GazeControls, eye_angles, eye_look_weights, gaze_curves, plan_fixations
from .head import HeadControls, head_motion, orientation_toward

ECHO = 0.25  # of the speaker's expression that the listener's face takes on
LISTENING_GAZE = replace(NEUTRAL_GAZE, contact=0.75, away_s=0.7, avert_at_start=0.0)
# No beats of its own and no stillness in the speaker's pauses; a nod as each of the speaker's phrases ends.
LISTENING_HEAD = replace(NEUTRAL_HEAD, beat_deg=0.0, yaw_beat_deg=0.0, posture_deg=1.5, drift_deg=0.8,
                         end_nod_deg=2.0, pause_level=1.0)
# The mouth at rest: nothing that opens, rounds or moves the lips; the corners may echo the speaker.
MOUTH_AT_REST = frozenset(n for n in ARKIT_NAMES if n.startswith(("jaw", "mouthClose", "mouthFunnel", "mouthPucker",
                                                                  "mouthRoll", "mouthShrug", "mouthLower",
                                                                  "mouthUpper", "mouthPress", "mouthStretch",
                                                                  "mouthLeft", "mouthRight", "tongue", "cheekPuff")))


def listening_take(phones: list[Phone], segments: list[dict], duration: float, *, fps: float, seed: int,
                   options: NonverbalOptions = NonverbalOptions()) -> AliveTake:
    """The listener's take over the speaker's line: `phones` and `segments` are the speaker's."""
    frames = num_frames_for(duration, fps)
    spoken = find_phrases(phones)
    segments = [s for s in segments if s.get("instruction")] or [
        {"start": 0.0, "end": duration, "instruction": "A neutral person speaks with relaxed face."}]
    controls = [parse_instruction(s["instruction"]) for s in segments]
    offsets, _, _ = style_tracks_for_controls(controls, segments, frames, fps)
    echo = ECHO * np.clip(offsets, 0, 1)
    for name in MOUTH_AT_REST:
        echo[:, ARKIT_INDEX[name]] = 0.0

    rng = np.random.default_rng([seed, 0x115])
    whole = [Phrase(0.0, duration, 0.0)]  # the listener attends for the whole line
    fixations = plan_fixations(whole, duration, lambda t: (LISTENING_GAZE, GazeControls()), rng)
    contact, distance = options.gaze.per_frame(frames)
    left, right = eye_angles(gaze_curves(fixations, frames, fps) + contact, distance)

    head = HeadControls(options.head_motion, nodding=0.4)
    rotation, translation = head_motion([], spoken, frames, fps, LISTENING_HEAD, head, seed)
    rotation += orientation_toward(contact, np.full(frames, min(1.0, options.head_motion)))
    left, right = steadied(left, rotation), steadied(right, rotation)

    with_eyes = np.clip(echo + eye_look_weights(left, right), 0, 1)
    blinks = blink_curve(duration, frames, fps, phones, seed + 7919)  # not in step with the speaker's
    played = with_eyes.copy()
    for name in ("eyeBlinkLeft", "eyeBlinkRight"):
        played[:, ARKIT_INDEX[name]] = np.maximum(played[:, ARKIT_INDEX[name]], blinks)
    layers = {"lips": np.zeros_like(played), "expression": echo, "eyes": with_eyes - echo, "blinks": played - with_eyes}
    return AliveTake(played, np.zeros((frames, 3)), layers, rotation, translation, left, right)
