"""The synthetic corpus as tensors for training the synthesis model (see corpus.py for the recipe)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..agent.grammar import ACTION_KEYS, EMOTIONS, StyleControls
from ..audio.types import SAMPLE_RATE, Audio

PCM_FULL_SCALE = 32767  # a test clip's heard speech is stored as int16 samples × this (corpus.py)


@dataclass
class CorpusClip:
    id: str
    content: np.ndarray  # (T, 44) speech-content features of the augmented audio
    motion: np.ndarray  # (T, 52) ground truth in the clip's own style
    motion_cross: np.ndarray  # (T, 52) the same speech content in the partner's style
    instruction: str
    partner_instruction: str
    style_vector: np.ndarray  # (actions + 2,) the controls the ground truth followed
    partner_style_vector: np.ndarray
    emotion: int  # index into EMOTIONS
    partner_emotion: int
    record: dict  # the manifest line

    @property
    def controls(self) -> StyleControls:
        """The controls the ground truth followed (own style)."""
        return StyleControls(**self.record["controls"])

    @property
    def partner_controls(self) -> StyleControls:
        return StyleControls(**self.record["partner_controls"])


def read_manifest(corpus: Path) -> list[dict]:
    manifest = Path(corpus) / "manifest.jsonl"
    if not manifest.is_file():
        raise FileNotFoundError(f"no corpus manifest at {manifest}; build one with python -m model_server.train.corpus")
    with open(manifest, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def clip_path(corpus: Path, clip_id: str) -> Path:
    """Where a clip's arrays live (content, motion, motion_cross; test clips also audio)."""
    return Path(corpus) / "clips" / f"{clip_id}.npz"


def stored_audio(arrays, clip_id: str) -> Audio | None:
    """The heard (augmented) speech a clip's arrays store; None for training clips, which keep only features."""
    if "audio" not in arrays:
        return None
    return Audio(arrays["audio"].astype(np.float32) / PCM_FULL_SCALE, SAMPLE_RATE, f"{clip_id}.wav")


def controls_vector(controls: dict) -> np.ndarray:
    """Same order as StyleControls.vector(): action strengths, then jaw scale and energy."""
    actions = controls.get("actions", {})
    return np.array([actions.get(k, 0.0) for k in ACTION_KEYS]
                    + [controls.get("jaw_scale", 1.0), controls.get("energy", 1.0)], dtype=np.float32)


def load_clips(corpus: Path, split: str, limit: int | None = None) -> list[CorpusClip]:
    """Clips of one split whose ground truth rests on phone-level timing (the clean speech aligned
    phone by phone; word-level fallbacks spread phones evenly and would teach sloppy lips)."""
    records = [r for r in read_manifest(corpus) if r["split"] == split and r.get("alignment_clean") == "forced"]
    clips = []
    for record in records[:limit]:
        path = clip_path(corpus, record["id"])
        if not path.exists():
            continue
        with np.load(path) as data:
            clips.append(CorpusClip(
                id=record["id"],
                content=data["content"].astype(np.float32),
                motion=data["motion"].astype(np.float32),
                motion_cross=data["motion_cross"].astype(np.float32),
                instruction=record["instruction"],
                partner_instruction=record["partner_instruction"],
                style_vector=controls_vector(record["controls"]),
                partner_style_vector=controls_vector(record["partner_controls"]),
                emotion=EMOTIONS.index(record["emotion"]),
                partner_emotion=EMOTIONS.index(record["partner_emotion"]),
                record=record,
            ))
    return clips


def crop_batch(clips: list[CorpusClip], indices: np.ndarray, frames: int, rng: np.random.Generator,
               augment=None):
    """Random crops of `frames` frames (zero-padded, with a mask) from the chosen clips.

    `augment(clip, rng) → (content, [motion, motion_cross])`, when given, may change a clip in time
    first (train_synthesis: held bilabials, pauses)."""
    b = len(indices)
    content = np.zeros((b, frames, clips[0].content.shape[1]), np.float32)
    motion = np.zeros((b, frames, clips[0].motion.shape[1]), np.float32)
    cross = np.zeros_like(motion)
    mask = np.zeros((b, frames), np.float32)
    for row, index in enumerate(indices):
        clip = clips[index]
        clip_content, (clip_motion, clip_cross) = clip.content, (clip.motion, clip.motion_cross)
        if augment is not None:
            clip_content, (clip_motion, clip_cross) = augment(clip, rng)
        length = len(clip_motion)
        start = int(rng.integers(0, length - frames + 1)) if length > frames else 0
        n = min(frames, length)
        content[row, :n] = clip_content[start:start + n]
        motion[row, :n] = clip_motion[start:start + n]
        cross[row, :n] = clip_cross[start:start + n]
        mask[row, :n] = 1.0
    return content, motion, cross, mask
