"""Short utterances of held-out clips: one to three words of a test clip's sentence, spoken in that clip's
voice and style under a fresh recording condition, labelled like the clip.

The corpus holds whole sentences, while users also send single words and short replies; these show how
an agent reads an emotion from so little speech.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import numpy as np

from ..audio.loading import load_audio
from ..audio.types import SAMPLE_RATE, Audio
from ..train.augment import apply_augmentation, sample_augmentation
from ..train.corpus import synthesize_speech
from ..train.styles import EspeakParams
from ..train.voices import Voice

SHORT_EVERY = 4  # one short utterance per this many test clips
SHORT_WORDS = (1, 1, 2, 3)  # words per utterance, drawn uniformly from these
SHORT_SEED = 13


def short_records(records: list[dict]) -> list[dict]:
    """The test clips that get a short utterance."""
    return [r for r in records if r["split"] == "test" and r["index"] % SHORT_EVERY == 0]


def short_text(sentence: str, rng: np.random.Generator) -> str:
    """One to three consecutive words of the sentence."""
    words = re.findall(r"[A-Za-z][A-Za-z']*", sentence)
    count = min(int(rng.choice(SHORT_WORDS)), len(words))
    start = int(rng.integers(0, len(words) - count + 1))
    return " ".join(words[start:start + count])


def speak_short_utterance(record: dict) -> tuple[str, Audio]:
    """The words and how they are heard: the clip's voice and espeak settings, a recording condition of
    its own (the same for the same clip every time)."""
    rng = np.random.default_rng([SHORT_SEED, record["index"]])
    text = short_text(record["sentence"], rng)
    with tempfile.TemporaryDirectory(prefix="short-utterance-") as folder:
        wav = Path(folder) / "speech.wav"
        synthesize_speech(text, Voice(record["accent"], record["variant"]), EspeakParams(**record["espeak"]), wav)
        clean = load_audio(wav)
    samples = apply_augmentation(clean.samples, sample_augmentation(rng), rng)
    return text, Audio(samples, SAMPLE_RATE, f"{record['id']}-short.wav")
