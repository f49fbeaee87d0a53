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
