"""The speech front-end as one component: audio → phones, prosody and segments."""

from __future__ import annotations

import threading

import pocketsphinx

from .alignment import align_phones
from .prosody import analyze_prosody
from .segments import split_segments
from .types import Audio, SpeechAnalysis


class SpeechFrontEnd:
    name = "pocketsphinx-en-us"

    def analyze(self, audio: Audio, transcript: str | None, fps: float,
                cancel: threading.Event | None = None) -> SpeechAnalysis:
        alignment = align_phones(audio, transcript, cancel=cancel)
        prosody = analyze_prosody(audio, fps)
        return SpeechAnalysis(audio=audio, alignment=alignment, prosody=prosody,
                              segments=split_segments(alignment, prosody))

    def describe(self) -> dict:
        return {"name": self.name, "pocketsphinx": getattr(pocketsphinx, "__version__", "5")}
