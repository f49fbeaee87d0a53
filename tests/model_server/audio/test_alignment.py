"""Phone timings with pocketsphinx on real and synthetic speech, and every fallback path."""

from __future__ import annotations

import subprocess

import pytest

from model_server.audio.alignment import (_decode, _forced, align_phones, cover_with_silence, new_decoder, pcm16,
                                          pronounceable, transcript_words)
from model_server.audio.dictionary import entries_for
from model_server.audio.loading import load_audio
from model_server.audio.types import Phone

FRONT_CENTER = ["F", "R", "AH", "N", "T", "S", "EH", "N", "T", "ER"]


def spoken(alignment) -> list[str]:
    return [p.phone for p in alignment.phones if p.phone != "SIL"]


def check_tiles(alignment, duration):
    phones = alignment.phones
    assert phones[0].start == 0.0 and phones[-1].end == pytest.approx(duration)
    assert all(abs(a.end - b.start) < 1e-9 for a, b in zip(phones, phones[1:]))


def test_forced_alignment_of_real_speech(front_center_wav):
    audio = load_audio(front_center_wav)
    alignment = align_phones(audio, "Front, center!")
    assert alignment.method == "forced"
    assert spoken(alignment) == FRONT_CENTER
    assert [w.word for w in alignment.words] == ["front", "center"]
    check_tiles(alignment, audio.duration)
    center = alignment.words[1]
    assert alignment.words[0].end <= center.start and center.end <= audio.duration


def test_recognition_without_transcript_finds_phones(front_center_wav):
    audio = load_audio(front_center_wav)
    alignment = align_phones(audio, None)
    assert alignment.method.startswith("recognition") or alignment.method == "phonetic"
    assert "center" in alignment.transcript
    assert len(spoken(alignment)) >= 8
    check_tiles(alignment, audio.duration)


def synthetic(tmp_path, text: str, voice: str):
    path = tmp_path / f"{voice.replace('+', '_')}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), text], check=True)
    return load_audio(path)


def test_synthetic_sentence_aligns_with_dictionary_phones(tmp_path):
    text = "The quick brown fox jumps over the lazy dog"
    audio = synthetic(tmp_path, text, "en-us+f2")
    alignment = align_phones(audio, text)
    # Phone-level alignment fails on this one ("Failed to stop utterance processing"): the
    # word-level fallback keeps the words' timing and the dictionary's phones.
    assert alignment.method in ("forced", "forced-words")
    assert [w.word for w in alignment.words] == transcript_words(text)
    assert spoken(alignment)[:4] == ["DH", "AH", "K", "W"]
    check_tiles(alignment, audio.duration)


def test_word_level_fallback_when_phone_alignment_is_switched_off(front_center_wav):
    audio = load_audio(front_center_wav)
    alignment = align_phones(audio, "front center", allow_phone_level=False)
    assert alignment.method == "forced-words"
    assert spoken(alignment) == FRONT_CENTER
    check_tiles(alignment, audio.duration)


def test_voice_that_defeats_forced_alignment_keeps_the_texts_words_at_the_heard_times(tmp_path):
    text = "Please bring me the map"
    audio = synthetic(tmp_path, text, "en-us+Andy")  # this voice defeats alignment to the transcript
    alignment = align_phones(audio, text)
    assert alignment.method == "forced-heard-times"  # Whisper heard the words: the text stays the animator's
    assert [w.word for w in alignment.words] == transcript_words(text)
    assert alignment.transcript == text and alignment.transcript_source == "given"
    assert len(spoken(alignment)) >= 8
    check_tiles(alignment, audio.duration)


@pytest.mark.parametrize("text", ["Voulez-vous danser avec moi ce soir", "?!...",
                                  "one two three four five six seven eight nine ten eleven twelve thirteen"])
def test_a_text_that_is_not_what_was_said_falls_back_to_whisper_s_words(asterisk_recording, text):
    """The no-text path hears the line right; a text that cannot be placed must not make it worse."""
    path, said = asterisk_recording("agent-pass")
    audio = load_audio(path)
    heard = align_phones(audio, None)
    assert heard.transcript_source == "recognized"
    wrong = align_phones(audio, text)
    assert wrong.transcript_source == "recognized"  # the text was not used, and the result says so
    assert wrong.transcript == heard.transcript and spoken(wrong) == spoken(heard)
    assert set(transcript_words(said)) & set(transcript_words(wrong.transcript))


def test_a_clip_aligns_the_same_whatever_was_aligned_before(front_center_wav, asterisk_recording):
    audio = load_audio(front_center_wav)
    first = align_phones(audio, "front center")
    other, other_text = asterisk_recording("agent-pass")
    align_phones(load_audio(other), other_text)
    align_phones(load_audio(other), None)
    assert align_phones(audio, "front center").phones == first.phones


def test_cancel_stops_alignment(long_speech_wav):
    import threading

    from model_server.errors import JobCancelled

    cancel = threading.Event()
    cancel.set()
    with pytest.raises(JobCancelled):
        align_phones(load_audio(long_speech_wav), None, cancel=cancel)


def test_unknown_words_do_not_break_alignment(front_center_wav):
    audio = load_audio(front_center_wav)
    alignment = align_phones(audio, "front zxqvbnm center")
    assert [w.word for w in alignment.words] == ["front", "center"]


def test_cover_with_silence_fills_gaps_and_trims_overlaps():
    phones = [Phone("AA", 0.1, 0.3), Phone("B", 0.25, 0.4), Phone("IY", 0.6, 0.9)]
    covered = cover_with_silence(phones, 1.0)
    assert [(p.phone, p.start, p.end) for p in covered] == [
        ("SIL", 0.0, 0.1), ("AA", 0.1, 0.3), ("B", 0.3, 0.4), ("SIL", 0.4, 0.6), ("IY", 0.6, 0.9), ("SIL", 0.9, 1.0)]


@pytest.mark.parametrize("key", ["vm-review", "queue-thereare", "conf-getpin"])
def test_a_decoder_of_the_clip_s_words_aligns_as_the_whole_dictionary_does(asterisk_recording, key):
    """Forced alignment with a decoder that knows only the clip's words (and their variants) against the
    same passes with the whole dictionary; a word neither has is guessed alike from the dictionary's parts."""
    path, text = asterisk_recording(key)
    pcm = pcm16(load_audio(path))
    results = []
    for decoder in (new_decoder(), new_decoder(transcript_words(text))):
        found = _forced(decoder, pcm, pronounceable(decoder, transcript_words(text)), text, "forced", _decode)
        assert pronounceable(decoder, ["bluebirdsong"]) == ["bluebirdsong"]  # from "blue", "bird", "song"
        results.append((found.phones, found.words, decoder.lookup_word("bluebirdsong")))
    assert results[0] == results[1]
    assert entries_for(["the"]) == ["the DH AH", "the(2) DH IY"]


@pytest.fixture(scope="module")
def long_prompts(tmp_path_factory, asterisk_recording):
    """Real prompts joined by pauses into 72 s and more, and their text."""
    import numpy as np
    import soundfile

    keys = ["agent-pass", "conf-getpin", "vm-goodbye", "vm-options", "vm-instructions", "conf-onlyperson",
            "vm-password", "vm-newuser", "conf-placeintoconf", "vm-intro"]
    parts, words = [], []
    while sum(len(p) for p in parts) < 72 * 16000:
        for key in keys:
            path, text = asterisk_recording(key)
            samples, rate = soundfile.read(str(path), dtype="float32")
            assert rate == 16000
            parts += [samples, np.zeros(int(0.8 * rate), np.float32)]
            words.append(text)
    path = tmp_path_factory.mktemp("long") / "long.wav"
    soundfile.write(str(path), np.concatenate(parts), 16000)
    return load_audio(path), " ".join(words)


def pieces_against_whole(audio, text, monkeypatch):
    from model_server.audio import alignment

    monkeypatch.setattr(alignment, "PIECES_AFTER_S", 10_000.0)
    whole = align_phones(audio, text)
    monkeypatch.setattr(alignment, "PIECES_AFTER_S", 60.0)
    return whole, align_phones(audio, text)


def assert_same_phones_within_a_frame(whole, pieces):
    import numpy as np

    assert whole.method == pieces.method == "forced"
    a, b = ([p for p in found.phones if p.phone != "SIL"] for found in (whole, pieces))
    assert len(a) == len(b) and sum(x.phone == y.phone for x, y in zip(a, b)) >= 0.99 * len(a)
    starts = np.abs(np.array([x.start for x in a]) - np.array([y.start for y in b]))
    assert (starts <= 0.04).mean() >= 0.98, (starts <= 0.04).mean()
    bilabial = [i for i, x in enumerate(a) if x.phone in ("P", "B", "M")]
    assert bilabial and (starts[bilabial] <= 0.04).all()  # every /p b m/ closes on the same 25 fps frame


def test_a_long_clip_aligned_in_pieces_matches_the_whole_clip_within_a_frame(long_prompts, monkeypatch):
    """The phone pass in pieces cut at the word pass's pauses (its memory no longer grows with the square of
    the clip) finds the whole clip's phones, their starts within one 25 fps frame."""
    from model_server.audio import alignment

    audio, text = long_prompts
    calls = []
    aligned_piece = alignment._aligned_piece
    monkeypatch.setattr(alignment, "_aligned_piece", lambda *a: calls.append(a[1:3]) or aligned_piece(*a))
    whole, pieces = pieces_against_whole(audio, text, monkeypatch)
    assert len(calls) >= 3 and calls[0][0] == 0  # it did run in pieces, from the clip's start
    assert_same_phones_within_a_frame(whole, pieces)


def test_a_piece_that_cannot_be_aligned_alone_is_aligned_with_the_one_before(long_prompts, monkeypatch):
    from model_server.audio import alignment

    audio, text = long_prompts
    spans, aligned_piece = [], alignment._aligned_piece

    def second_piece_fails_once(pcm, first, end, *rest):
        spans.append((first, end))
        if len(spans) == 2:
            raise RuntimeError("Failed to stop utterance processing")  # what pocketsphinx raises then
        return aligned_piece(pcm, first, end, *rest)

    monkeypatch.setattr(alignment, "_aligned_piece", second_piece_fails_once)
    whole, pieces = pieces_against_whole(audio, text, monkeypatch)
    assert spans[2] == (spans[0][0], spans[1][1])  # the first two again, as one piece
    assert_same_phones_within_a_frame(whole, pieces)


def test_cancel_stops_a_long_clip_between_and_within_its_pieces(long_prompts, monkeypatch):
    import threading

    from model_server.audio import alignment
    from model_server.errors import JobCancelled

    audio, text = long_prompts
    cancel, aligned_piece, done = threading.Event(), alignment._aligned_piece, []

    def cancel_after_the_first(*args):
        done.append(aligned_piece(*args))
        cancel.set()  # the user presses Cancel while the pieces run
        return done[-1]

    monkeypatch.setattr(alignment, "PIECES_AFTER_S", 60.0)
    monkeypatch.setattr(alignment, "_aligned_piece", cancel_after_the_first)
    with pytest.raises(JobCancelled):
        align_phones(audio, text, cancel=cancel)
    assert len(done) == 1
