"""The speech front-end as one component: audio → phones, prosody and segments."""

from __future__ import annotations

import threading

import pocketsphinx

from .alignment_cache import AlignmentCache
from .languages import align_in_language
from .prosody import analyze_prosody
from .recognition import describe_recognizer
from .segments import split_segments
from .types import Alignment, Audio, SpeechAnalysis


class SpeechFrontEnd:
    name = "pocketsphinx-en-us"

    def __init__(self) -> None:
        self.alignments = AlignmentCache()  # the same clip animated again is not aligned again

    def analyze(self, audio: Audio, transcript: str | None, fps: float,
                cancel: threading.Event | None = None, language: str = "en", progress=None) -> SpeechAnalysis:
        """`progress`: (0..1 of the alignment, stage) while the audio is aligned (not for a kept alignment)."""
        alignment = self.alignments.aligned(audio, transcript, language,
                                            lambda: align_in_language(audio, transcript, language, cancel=cancel,
                                                                      progress=progress))
        return self.with_alignment(audio, alignment, fps)

    def with_alignment(self, audio: Audio, alignment: Alignment, fps: float) -> SpeechAnalysis:
        """The analysis around phone timings already found (one alignment, several frame rates)."""
        prosody = analyze_prosody(audio, fps)
        return SpeechAnalysis(audio=audio, alignment=alignment, prosody=prosody,
                              segments=split_segments(alignment, prosody))

    def prepare(self) -> None:
        """Read ahead what the first analysis needs and would otherwise wait for: the resampler (scipy's
        import takes about a second) and the pronouncing dictionary."""
        from scipy.signal import resample_poly  # noqa: F401

        from .dictionary import read

        read()

    def describe(self) -> dict:
        return {"name": self.name, "pocketsphinx": getattr(pocketsphinx, "__version__", "5"),
                "recognizer": describe_recognizer(), "other_languages": "espeak-ng phonemes, whisper-base"}
