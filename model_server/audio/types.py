"""What the speech front-end hands to the agent and to synthesis."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SAMPLE_RATE = 16_000  # every stage after loading works at 16 kHz mono


@dataclass(frozen=True)
class Audio:
    samples: np.ndarray  # (n,) float32 in [-1, 1], mono, SAMPLE_RATE
    source_sample_rate: int
    source: str  # file name or "<upload>", for messages
    offset: float = 0.0  # seconds into the source file where these samples begin (a trimmed strip's audible part)

    @property
    def duration(self) -> float:
        return len(self.samples) / SAMPLE_RATE

    @property
    def span(self) -> tuple[float, float]:
        """(start, end) seconds into the source file that these samples cover."""
        return self.offset, self.offset + self.duration


@dataclass(frozen=True)
class Phone:
    phone: str  # ARPAbet without stress digits ("AA", "P", ...), "SIL" for silence
    start: float  # seconds
    end: float


@dataclass(frozen=True)
class Word:
    word: str
    start: float
    end: float


@dataclass
class Alignment:
    phones: list[Phone]
    words: list[Word]
    transcript: str
    method: str  # "forced", "recognition", or the fallback that produced it
    language: str = "en"  # ISO 639-1, as Whisper names languages
    phoneme_source: str = "pocketsphinx"  # whose pronunciations: pocketsphinx's English dictionary, or espeak-ng

    @property
    def transcript_source(self) -> str:
        """"given": the dialogue text was aligned; "recognized": the words are what the recogniser heard
        (no text, or text that could not be aligned), for the animator to check and correct."""
        return "given" if self.method.startswith("forced") else "recognized"


@dataclass
class Prosody:
    """Per-frame prosody at the animation frame rate: frame i is time i / fps."""

    fps: float
    f0: np.ndarray  # (T,) Hz, 0 where unvoiced
    voicing: np.ndarray  # (T,) 0..1
    loudness: np.ndarray  # (T,) dBFS (RMS), about -90 in silence
    loudness_norm: np.ndarray  # (T,) 0..1, clip-relative loudness for articulation


@dataclass
class SpeechSegment:
    """A stretch of speech between pauses; the unit the agent writes one instruction for."""

    start: float
    end: float
    text: str
    speaking_rate: float  # phones per second
    mean_f0: float  # Hz over voiced frames (0 if none)
    f0_range: float  # semitones, 10th..90th percentile
    mean_loudness: float  # dBFS over speech frames
    pause_after: float  # seconds of silence that follow


@dataclass
class SpeechAnalysis:
    audio: Audio
    alignment: Alignment
    prosody: Prosody
    segments: list[SpeechSegment] = field(default_factory=list)
