"""A tiny corpus in the builder's format, from numpy arrays and the ALSA test words (real speech)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from model_server.arkit import ARKIT_INDEX
from model_server.audio.loading import load_audio
from model_server.curves import num_frames_for

ALSA = Path("/usr/share/sounds/alsa")
WORDS = ("Front_Center", "Front_Left", "Rear_Right", "Side_Left", "Front_Right", "Rear_Left")
EMOTIONS = ("happy", "angry")
INSTRUCTIONS = {"happy": "A happy person speaks with lip corners fairly raised.",
                "angry": "A fairly angry person speaks with brow quite lowered."}


def _motion(frames: int, emotion: str, phase: float, rng: np.random.Generator) -> np.ndarray:
    """Jaw motion of the speech (same phase: same words), plus the emotion's marks: smiles for happy,
    lowered brows for angry."""
    t = np.arange(frames) / 25.0
    motion = np.zeros((frames, 52), dtype=np.float32)
    motion[:, ARKIT_INDEX["jawOpen"]] = 0.2 + 0.15 * np.sin(2 * np.pi * 3 * t + phase)
    marks = ("mouthSmileLeft", "mouthSmileRight") if emotion == "happy" else ("browDownLeft", "browDownRight")
    for name in marks:
        motion[:, ARKIT_INDEX[name]] = 0.5 + 0.05 * rng.standard_normal()
    return motion


def build_tiny_corpus(root: Path, test_clips: int = 2, train_clips: int = 4) -> Path:
    (root / "clips").mkdir(parents=True)
    rng = np.random.default_rng(0)
    records = []
    for i in range(test_clips + train_clips):
        split = "test" if i < test_clips else "train"
        word = WORDS[i % len(WORDS)]
        audio = load_audio(ALSA / f"{word}.wav")
        frames = num_frames_for(audio.duration, 25.0)
        emotion, partner = EMOTIONS[i % 2], EMOTIONS[(i + 1) % 2]
        record = {"id": f"clip{i:03d}", "split": split, "sentence": word.replace("_", " ").lower(),
                  "voice": "alsa", "emotion": emotion, "intensity": "fairly", "instruction": INSTRUCTIONS[emotion],
                  "controls": {}, "partner_emotion": partner, "partner_instruction": INSTRUCTIONS[partner],
                  "partner_controls": {}, "alignment_clean": "forced", "duration": audio.duration,
                  "frames": frames, "phones": []}
        phase = rng.uniform(0, 2 * np.pi)
        arrays = {"content": np.zeros((frames, 44), np.float32), "motion": _motion(frames, emotion, phase, rng),
                  "motion_cross": _motion(frames, partner, phase, rng)}
        if split == "test":
            arrays["audio_aug"] = (np.clip(audio.samples, -1, 1) * 32767).astype(np.int16)
        np.savez(root / "clips" / f"{record['id']}.npz", **arrays)
        records.append(record)
    (root / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return root
