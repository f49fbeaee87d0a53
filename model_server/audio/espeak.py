"""The text's phonemes, per word, with eSpeak NG's own timing: its library, synthesising the text.

libespeak-ng (Debian's espeak-ng) speaks about a hundred languages. Synthesising the text in
synchronous mode reports each phoneme (in IPA) and each word with its position in the audio it made,
so one call gives what both timing methods need: the words' phonemes, how long eSpeak holds each
phoneme, and the synthetic speech itself for dynamic time warping against the recording
(dtw_alignment.py).
"""

from __future__ import annotations

import ctypes
import threading
import unicodedata
from dataclasses import dataclass

import numpy as np

from ..errors import InputError

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS, _INITIALIZE_PHONEME_IPA = 0x0001, 0x0002
_POS_CHARACTER, _CHARS_UTF8 = 1, 1
_EVENT_LIST_TERMINATED, _EVENT_WORD, _EVENT_PHONEME = 0, 1, 7


class _Event(ctypes.Structure):
    class _Id(ctypes.Union):
        _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]

    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint), ("text_position", ctypes.c_int),
                ("length", ctypes.c_int), ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", _Id)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


@dataclass(frozen=True)
class SpokenWord:
    text: str  # the word as written in the text
    start: float  # seconds into eSpeak's synthetic speech
    end: float
    phonemes: list[tuple[str, float, float]]  # (IPA, start, end) in the synthetic speech


@dataclass(frozen=True)
class SpokenText:
    voice: str
    samples: np.ndarray  # float32 mono synthetic speech
    rate: int
    words: list[SpokenWord]


class _Library:
    """libespeak-ng, loaded once; it keeps global state, so one synthesis at a time."""

    def __init__(self) -> None:
        try:
            self.lib = ctypes.CDLL("libespeak-ng.so.1")
        except OSError as exc:
            raise InputError("other languages need eSpeak NG: apt-get install espeak-ng") from exc
        self.rate = self.lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, None,
                                               _INITIALIZE_PHONEME_EVENTS | _INITIALIZE_PHONEME_IPA)
        if self.rate <= 0:
            raise InputError("eSpeak NG did not start (is espeak-ng-data installed?)")
        self.lock = threading.Lock()
        self._samples: list[np.ndarray] = []
        self._events: list[tuple[int, int, int, int, str]] = []
        self._callback = _CALLBACK(self._collect)  # kept referenced: the library calls it
        self.lib.espeak_SetSynthCallback(self._callback)

    def _collect(self, wav, count, events) -> int:
        if count > 0:
            self._samples.append(np.ctypeslib.as_array(wav, shape=(count,)).astype(np.float32) / 32768.0)
        k = 0
        while events[k].type != _EVENT_LIST_TERMINATED:
            event = events[k]
            if event.type in (_EVENT_WORD, _EVENT_PHONEME):
                label = event.id.string.decode("utf-8", "replace") if event.type == _EVENT_PHONEME else ""
                self._events.append((event.type, event.audio_position, event.text_position, event.length, label))
            k += 1
        return 0

    def speak(self, text: str, voice: str) -> SpokenText:
        with self.lock:
            if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise InputError(f"eSpeak NG has no voice for the language {voice!r}")
            self._samples, self._events = [], []
            data = text.encode("utf-8")
            self.lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            samples = np.concatenate(self._samples) if self._samples else np.zeros(0, np.float32)
            events = list(self._events)
        return SpokenText(voice, samples, self.rate, _words(text, events, len(samples) / self.rate))


_LIBRARY: list[_Library] = []
_LOAD = threading.Lock()


def speak(text: str, voice: str) -> SpokenText:
    """The text spoken by eSpeak NG's voice for `voice` (a language code such as fr, es-419, ru)."""
    return _library().speak(text, voice)


def _library() -> _Library:
    with _LOAD:
        if not _LIBRARY:
            _LIBRARY.append(_Library())
    return _LIBRARY[0]


def has_voice(voice: str) -> bool:
    """Whether eSpeak NG has a voice for this language code."""
    library = _library()
    with library.lock:
        return library.lib.espeak_SetVoiceByName(voice.encode()) == 0


def _words(text: str, events: list[tuple[int, int, int, int, str]], duration: float) -> list[SpokenWord]:
    """Phoneme events grouped under the word event before them; each phoneme lasts until the next event."""
    marks = sorted({position for _, position, *_ in events} | {round(duration * 1000)})
    next_mark = {a: b for a, b in zip(marks, marks[1:])}
    words: list[SpokenWord] = []
    for kind, position, text_position, length, label in events:
        start = position / 1000
        if kind == _EVENT_WORD:
            written = text[text_position - 1:text_position - 1 + length]  # positions count characters from 1
            words.append(SpokenWord(written, start, start, []))
        elif words and (phoneme := clean_ipa(label)):
            end = next_mark.get(position, position) / 1000
            last = words[-1]
            last.phonemes.append((phoneme, start, max(start, end)))
            words[-1] = SpokenWord(last.text, last.start, max(last.end, end), last.phonemes)
    return [w for w in words if w.phonemes]


def clean_ipa(label: str) -> str:
    """eSpeak's IPA for one phoneme without stress, length and its own reduction marks."""
    kept = "".join(c for c in unicodedata.normalize("NFD", label) if c not in "ˈˌːˑ-_|'" and
                   unicodedata.category(c) != "Mn")
    return kept.strip()
