"""English phone timings from pocketsphinx (its acoustic model ships in the PyPI package).

With the dialogue text: forced alignment (fast, accurate). Without: recognition, then the
recognised words are aligned. Phone-level alignment fails on some inputs ("Failed to set up
sub-word alignment"), so each path falls back to the next instead of failing:
forced → word-level timing with dictionary phones → recognition → phone-loop decoding.
The phone-loop path needs no English words and is the route for other languages.
"""

from __future__ import annotations

import os
import re
import threading
import time

import numpy as np
from pocketsphinx import Decoder, get_model_path

from ..errors import JobCancelled
from .types import SAMPLE_RATE, Alignment, Audio, Phone, Word

FRAME_SECONDS = 0.01  # pocketsphinx frames are 10 ms
_SILENCES = {"SIL", "+NSN+", "+SPN+", "+BREATH+", "+COUGH+", "+UH+", "+UM+", "+SMACK+", "<sil>", "<s>", "</s>"}


class AlignmentFailed(RuntimeError):
    """One alignment path did not work on this input; the caller tries the next one."""


class _Decoders:
    """One decoder per process (model load ~0.3 s), guarded because pocketsphinx is not thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._decoder: Decoder | None = None
        self._initial_cmn = ""

    def get(self) -> Decoder:
        if self._decoder is None:
            self._decoder = Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")
            self._decoder.add_allphone_file("allphone", os.path.join(get_model_path(), "en-us-phone.lm.bin"))
            self._initial_cmn = self._decoder.get_cmn()
        # Live cepstral mean normalisation carries over from the previous utterance; start each
        # clip from the model's initial estimate so a clip aligns the same whatever came before it
        # (a previous speaker or noise level made forced alignment fail on otherwise good input).
        self._decoder.set_cmn(self._initial_cmn)
        return self._decoder


_DECODERS = _Decoders()


def normalize_phone(label: str) -> str:
    if label in _SILENCES or label.startswith("+"):
        return "SIL"
    return re.sub(r"\d", "", label).upper()


def word_name(label: str) -> str:
    """Dictionary entry → word: "the(2)" names a pronunciation variant of "the"."""
    return re.sub(r"\(\d+\)$", "", label)


def transcript_words(text: str) -> list[str]:
    """Lower-case words as the CMU dictionary spells them (apostrophes kept: "can't")."""
    return re.findall(r"[a-z]+(?:'[a-z]+)*", text.lower().replace("’", "'"))


def align_phones(audio: Audio, transcript: str | None, *, allow_phone_level: bool = True,
                 cancel: threading.Event | None = None, recognize: bool = True) -> Alignment:
    """Phone timings for the clip, sorted and covering [0, duration] (gaps are "SIL").

    recognize=False: only the transcript's own paths; raises AlignmentFailed if they fail.
    """
    pcm = (np.clip(audio.samples, -1.0, 1.0) * 32767).astype(np.int16).tobytes()
    with _DECODERS.lock:
        decoder = _DECODERS.get()
        decode = lambda d, data: _decode(d, data, cancel)  # noqa: E731
        alignment = _best_alignment(decoder, pcm, transcript, allow_phone_level, decode, recognize)
    alignment.phones = cover_with_silence(alignment.phones, audio.duration)
    return alignment


def _best_alignment(decoder: Decoder, pcm: bytes, transcript: str | None, allow_phone_level: bool,
                    decode, recognize: bool = True) -> Alignment:
    if transcript and transcript.strip():
        words = [w for w in transcript_words(transcript) if decoder.lookup_word(w)]
        if words:
            if allow_phone_level:
                try:
                    return _forced(decoder, pcm, words, transcript.strip(), "forced", decode)
                except AlignmentFailed:
                    pass
            try:
                return _word_level(decoder, pcm, words, transcript.strip(), decode)
            except AlignmentFailed:
                pass
    if not recognize:
        raise AlignmentFailed("the transcript could not be aligned to this audio")
    return _recognize(decoder, pcm, allow_phone_level, decode)


CHUNK_BYTES = 2 * SAMPLE_RATE // 2  # 0.5 s of 16-bit audio per call


def _decode(decoder: Decoder, pcm: bytes, cancel: threading.Event | None = None) -> None:
    """Feed the audio in short chunks: pocketsphinx holds the GIL while it works, so a whole
    minute in one call would stall the server's other threads (progress, cancel) for seconds."""
    decoder.start_utt()
    try:
        for offset in range(0, len(pcm), CHUNK_BYTES):
            if cancel is not None and cancel.is_set():
                raise JobCancelled("cancelled by the user")
            decoder.process_raw(pcm[offset:offset + CHUNK_BYTES], full_utt=False)
            time.sleep(0)  # let other threads run between chunks
    finally:
        decoder.end_utt()


def _forced(decoder: Decoder, pcm: bytes, words: list[str], transcript: str, method: str, decode) -> Alignment:
    try:
        decoder.set_align_text(" ".join(words))
        decode(decoder, pcm)
        decoder.set_alignment()
        decode(decoder, pcm)
        # Copy out now: the alignment's memory belongs to the search we switch away from below.
        aligned = [(w.name, w.start, w.duration, [(p.name, p.start, p.duration) for p in w])
                   for w in decoder.get_alignment()]
    except (RuntimeError, ValueError) as exc:
        raise AlignmentFailed(str(exc)) from exc
    finally:
        decoder.activate_search("_default")
    phones, out_words = [], []
    for name, start, duration, word_phones in aligned:
        if name not in _SILENCES:
            out_words.append(Word(word_name(name), start * FRAME_SECONDS, (start + duration) * FRAME_SECONDS))
        for label, phone_start, phone_duration in word_phones:
            begin = phone_start * FRAME_SECONDS
            phones.append(Phone(normalize_phone(label), begin, begin + phone_duration * FRAME_SECONDS))
    if not out_words:
        raise AlignmentFailed("alignment found no words")
    return Alignment(phones=phones, words=out_words, transcript=transcript, method=method)


def _word_level(decoder: Decoder, pcm: bytes, words: list[str], transcript: str, decode) -> Alignment:
    """Word timings from the first alignment pass; each word's dictionary phones share its span."""
    try:
        decoder.set_align_text(" ".join(words))
        decode(decoder, pcm)
        found = decoder.seg()
        if found is None:
            raise AlignmentFailed("the transcript could not be aligned to this audio")
        segments = [(s.word, s.start_frame, s.end_frame + 1) for s in found]
    except (RuntimeError, ValueError) as exc:
        raise AlignmentFailed(str(exc)) from exc
    finally:
        decoder.activate_search("_default")
    phones, out_words = [], []
    for name, start_frame, end_frame in segments:
        start, end = start_frame * FRAME_SECONDS, end_frame * FRAME_SECONDS
        pronunciation = decoder.lookup_word(name) if name not in _SILENCES else None
        if not pronunciation:
            phones.append(Phone("SIL", start, end))
            continue
        out_words.append(Word(word_name(name), start, end))
        labels = pronunciation.split()
        edges = np.linspace(start, end, len(labels) + 1)
        phones += [Phone(normalize_phone(p), float(a), float(b)) for p, a, b in zip(labels, edges[:-1], edges[1:])]
    if not out_words:
        raise AlignmentFailed("word alignment found no words")
    return Alignment(phones=phones, words=out_words, transcript=transcript, method="forced-words")


def _recognize(decoder: Decoder, pcm: bytes, allow_phone_level: bool, decode) -> Alignment:
    decode(decoder, pcm)
    hypothesis = decoder.hyp()
    words = transcript_words(hypothesis.hypstr) if hypothesis else []
    if words:
        try:
            if allow_phone_level:
                return _forced(decoder, pcm, words, " ".join(words), "recognition", decode)
        except AlignmentFailed:
            pass
        try:
            alignment = _word_level(decoder, pcm, words, " ".join(words), decode)
            alignment.method = "recognition-words"
            return alignment
        except AlignmentFailed:
            pass
    return phone_loop(decoder, pcm, decode)


def phone_loop(decoder: Decoder, pcm: bytes, decode=_decode) -> Alignment:
    """Phones without words (the phone-LM search): the language-independent path."""
    decoder.activate_search("allphone")
    try:
        decode(decoder, pcm)
        phones = [Phone(normalize_phone(s.word), s.start_frame * FRAME_SECONDS, (s.end_frame + 1) * FRAME_SECONDS)
                  for s in (decoder.seg() or [])]
    finally:
        decoder.activate_search("_default")
    return Alignment(phones=phones, words=[], transcript="", method="phonetic")


def cover_with_silence(phones: list[Phone], duration: float) -> list[Phone]:
    """Sorted, clipped to the clip, contiguous: holes become "SIL", overlaps are trimmed."""
    out: list[Phone] = []
    cursor = 0.0
    for phone in sorted(phones, key=lambda p: p.start):
        start, end = max(phone.start, cursor), min(phone.end, duration)
        if end - start <= 1e-6:
            continue
        if start - cursor > 1e-6:
            out.append(Phone("SIL", cursor, start))
        out.append(Phone(phone.phone, start, end))
        cursor = end
    if duration - cursor > 1e-6:
        out.append(Phone("SIL", cursor, duration))
    merged: list[Phone] = []
    for phone in out:  # adjacent silences read as one pause
        if merged and phone.phone == "SIL" and merged[-1].phone == "SIL":
            merged[-1] = Phone("SIL", merged[-1].start, phone.end)
        else:
            merged.append(phone)
    return merged
