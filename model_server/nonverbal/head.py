"""Head motion from the voice: nods on accents, a turn or tilt per phrase, a slow drift, stillness in
long pauses, and a settle after a phrase.

Rotation is (pitch, yaw, roll) in radians in the head's frame: x to the speaker's left, y up, z forward
out of the face (FLAME's and glTF's frame), composed R = Ry(yaw) · Rx(pitch) · Rz(roll) about the neck.
Pitch + nods down, yaw + turns to the speaker's left, roll + tilts toward the speaker's right shoulder.
Translation is metres in the same frame: a small forward lean on emphasis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .accents import Accent, Phrase, pause_gate
from .behaviour import EYE_ONLY_PITCH_DEG, EYE_ONLY_YAW_DEG, HeadStyle

LEAN_M = 0.006  # forward lean on a strong accent
BEAT_LEAD_S = 0.06  # the nod starts a little before the vowel's loudest frame


@dataclass(frozen=True)
class HeadControls:
    """What the instruction and the user ask of the head: `amount` 0 (still) to 2, and the grammar's
    head phrases (strengths 0..1)."""

    amount: float = 1.0
    nodding: float = 0.0
    still: float = 0.0
    tilted: float = 0.0
    arousal: float = 1.0  # the instruction's speaking energy (1 neutral)


def _impulse(times: np.ndarray, onset: float, peak_s: float) -> np.ndarray:
    """A nod's shape: rises from 0 at `onset` to 1 after `peak_s`, then relaxes (gamma-like, about 3 × peak_s)."""
    x = np.clip((times - onset) / peak_s, 0, None)
    return x * np.exp(1 - x)


def _drift(times: np.ndarray, rng: np.random.Generator, amplitude: float) -> np.ndarray:
    """(T,) slow wander: three sines between 0.05 and 0.25 Hz with random phases."""
    out = np.zeros_like(times)
    for frequency in rng.uniform(0.05, 0.25, 3):
        out += np.sin(2 * np.pi * frequency * times + rng.uniform(0, 2 * np.pi))
    return amplitude * out / np.sqrt(1.5)


def _postures(phrases: list[Phrase], times: np.ndarray, rng: np.random.Generator, spread: float,
              tilt_bias: float) -> np.ndarray:
    """(T, 2) the head's resting yaw and roll, a new one from each phrase on, eased in over 0.4 s."""
    out = np.zeros((len(times), 2))
    for phrase in phrases:
        target = rng.normal(0, spread, 2) + np.array([0.0, tilt_bias])
        ease = np.clip((times - (phrase.start - 0.15)) / 0.4, 0, 1)
        ease = ease * ease * (3 - 2 * ease)
        out = out * (1 - ease[:, None]) + target[None, :] * ease[:, None]
    return out


def head_motion(accents: list[Accent], phrases: list[Phrase], num_frames: int, fps: float, style: HeadStyle,
                controls: HeadControls, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(rotation (T, 3) radians, translation (T, 3) metres). Amount 0 or a head held still: all zeros."""
    scale = controls.amount * max(0.0, 1.0 - controls.still)
    if scale <= 0.0 or num_frames == 0:
        return np.zeros((num_frames, 3)), np.zeros((num_frames, 3))
    rng = np.random.default_rng([seed, 0x4EAD])
    times = np.arange(num_frames) / fps
    arousal = float(np.clip(controls.arousal, 0.5, 1.6))
    beat_gain = arousal * (1.0 + 0.8 * controls.nodding)

    pitch = np.zeros(num_frames)
    yaw = np.zeros(num_frames)
    lean = np.zeros(num_frames)
    peak = style.beat_s / np.sqrt(arousal)  # an aroused voice nods sharper
    for accent in accents:
        shape = _impulse(times, accent.time - BEAT_LEAD_S, peak)
        pitch += np.radians(style.beat_deg) * beat_gain * accent.strength * shape
        lean += accent.strength * shape
        if accent.strength > 0.6:  # strong accents turn the head a little as well
            yaw += np.radians(style.yaw_beat_deg) * arousal * rng.choice([-1, 1]) * accent.strength * shape
    for phrase in phrases:  # a nod as the phrase closes, more often when the instruction says it nods
        if rng.random() < 0.5 + 0.5 * controls.nodding:
            pitch += np.radians(style.end_nod_deg) * (1 + controls.nodding) * _impulse(times, phrase.end - 0.15, 0.2)

    posture = np.radians(_postures(phrases, times, rng, style.posture_deg, tilt_bias=6.0 * controls.tilted))
    drift = np.stack([_drift(times, rng, np.radians(style.drift_deg)) for _ in range(3)], axis=1)
    gate = pause_gate(phrases, num_frames, fps, style.pause_level)

    rotation = drift * gate[:, None]
    rotation[:, 0] += pitch
    rotation[:, 1] += yaw + posture[:, 0] * (0.5 + 0.5 * gate)
    rotation[:, 2] += posture[:, 1] * (0.5 + 0.5 * gate)
    translation = np.zeros((num_frames, 3))
    translation[:, 2] = LEAN_M * lean / max(1.0, lean.max(initial=0.0)) * arousal
    return rotation * scale, translation * scale


def orientation_toward(contact: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """(T, 3) pitch, yaw, roll that turn the head toward eye contact at `contact` ((T, 2) yaw, pitch radians)
    beyond the eyes' own range (behaviour.EYE_ONLY_*): a listener 45° to the side is faced by a 29° turn of
    the head and 16° of the eyes. `amount` ((T,), 0..1) scales it: a head held still leaves it to the eyes."""
    reach = np.radians([EYE_ONLY_YAW_DEG, EYE_ONLY_PITCH_DEG])
    beyond = contact - np.clip(contact, -reach, reach)
    rotation = np.zeros((len(contact), 3))
    rotation[:, 0], rotation[:, 1] = beyond[:, 1], beyond[:, 0]
    return rotation * np.clip(amount, 0.0, 1.0)[:, None]
