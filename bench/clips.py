"""The benchmark's two clips, each with its dialogue text.

- "repeated": the demo sentence repeated to the length asked (one long segment: docs/benchmarks.md's first
  benchmark clip);
- "sentences": real speech: Asterisk's prompts (one professional voice, Debian's
  asterisk-core-sounds-en-g722, decoded with ffmpeg) of sentence length, longest first, each after a
  0.7 s pause, as many as fit in the length asked: many sentences and pauses, so many segments for the agent to write.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import soundfile

from model_server.audio.types import SAMPLE_RATE as RATE

REPO = Path(__file__).resolve().parent.parent
PAUSE_SECONDS = 0.7
SENTENCE_SECONDS = (3.0, 8.0)  # prompts of sentence length (some are minute-long messages)
CLIPS = ("repeated", "sentences")


def repeated_clip(seconds: float, folder: Path) -> tuple[Path, str]:
    demo = REPO / "assets" / "demo_speech.wav"
    text = (REPO / "assets" / "demo_speech.txt").read_text().strip()
    repeats = max(1, round(seconds / soundfile.info(str(demo)).duration))
    clip = folder / f"repeated_{seconds:g}s.wav"
    subprocess.run(["sox", *[str(demo)] * repeats, str(clip)], check=True)
    return clip, " ".join([text] * repeats)


def sentences_clip(seconds: float, folder: Path, cache: Path = REPO / "data" / "real_speech") -> tuple[Path, str]:
    """Asterisk prompts, longest first, with pauses between; FileNotFoundError when they are not installed."""
    from model_server.audio.loading import load_audio
    from model_server.eval.real_recordings import PACKAGES, asterisk_recordings

    recordings = asterisk_recordings(cache)
    if not recordings:
        raise FileNotFoundError(f"the sentences clip needs Asterisk's prompts: apt-get install {PACKAGES['asterisk']}")
    lengths = {r.key: soundfile.info(str(r.path)).duration for r in recordings}
    sentences = [r for r in recordings if SENTENCE_SECONDS[0] <= lengths[r.key] <= SENTENCE_SECONDS[1]]
    by_length = sorted(sentences, key=lambda r: (-lengths[r.key], r.key))
    pieces, words, total = [], [], 0.0
    pause = np.zeros(int(PAUSE_SECONDS * RATE), np.float32)
    for recording in by_length:
        samples = load_audio(recording.path).samples  # mono at 16 kHz
        if pieces and total + PAUSE_SECONDS + len(samples) / RATE > seconds:
            continue  # a shorter one further down may still fit
        pieces += [pause, samples.astype(np.float32)]
        words.append(recording.transcript)
        total += PAUSE_SECONDS + len(samples) / RATE
    clip = folder / f"sentences_{seconds:g}s.wav"
    soundfile.write(str(clip), np.concatenate(pieces), RATE)
    return clip, " ".join(words)


def make_clip(name: str, seconds: float, folder: Path) -> tuple[Path, str]:
    return repeated_clip(seconds, folder) if name == "repeated" else sentences_clip(seconds, folder)
