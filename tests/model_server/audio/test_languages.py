"""Other languages: eSpeak NG's phonemes, IPA → phone labels, DTW timing, and the paths on real recordings."""

from __future__ import annotations

import numpy as np
import pytest

from model_server.audio.dtw_alignment import synthetic_to_recording, warp_path
from model_server.audio.espeak import speak
from model_server.audio.ipa import arpabet
from model_server.audio.languages import align_in_language, checked_language
from model_server.audio.loading import load_audio
from model_server.audio.multilingual import align_other_language
from model_server.audio.recognition import load_multilingual_recognizer
from model_server.errors import InputError


def labels(text: str, voice: str) -> list[list[str]]:
    return [[label for ipa, _, _ in word.phonemes for label in arpabet(ipa)] for word in speak(text, voice).words]


def test_espeak_gives_each_word_its_phonemes_in_time_order():
    spoken = speak("Composez votre mot de passe suivi du dièse.", "fr")
    assert [w.text for w in spoken.words] == ["Composez", "votre", "mot", "de", "passe", "suivi", "du", "dièse"]
    starts = [start for word in spoken.words for _, start, _ in word.phonemes]
    assert starts == sorted(starts) and 1.0 < len(spoken.samples) / spoken.rate < 4.0
    assert all(end >= start for word in spoken.words for _, start, end in word.phonemes)
    with pytest.raises(InputError, match="no voice"):
        speak("hello", "xx-nothing")


def test_lips_closing_sounds_become_bilabials_in_every_language():
    assert labels("mot de passe", "fr") == [["M", "OW"], ["D", "AH"], ["P", "AA", "S"]]
    assert labels("bueno", "es")[0][0] == "B"  # also the fricative β between vowels: the lips meet
    assert labels("пароль", "ru")[0][0] == "P"
    assert "UW" in labels("du", "fr")[0]  # French /y/ rounds like /u/
    assert arpabet("tʃ") == ["CH"] and arpabet("ʲ") == [] and arpabet("ɑ̃") == ["AA"]


def test_warping_recovers_a_known_stretch():
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(80, 12)).astype(np.float32)
    stretch = np.repeat(np.arange(80), np.where(np.arange(80) < 40, 1, 2))  # second half twice as slow
    query = reference[stretch] + 0.05 * rng.normal(size=(len(stretch), 12)).astype(np.float32)
    mapped = warp_path(reference, query)
    truth = np.array([np.flatnonzero(stretch == i).mean() for i in range(80)])
    assert np.abs(mapped - truth).max() <= 1.0


def test_synthetic_speech_warped_onto_a_slower_padded_copy_of_itself():
    spoken = speak("Benvenuto, grazie per aver chiamato.", "it")
    from model_server.audio.loading import resample

    slow = resample(spoken.samples, int(spoken.rate / 1.25))  # 25 % slower at 16 kHz
    recording = np.concatenate([np.zeros(8000, np.float32), slow, np.zeros(4000, np.float32)])
    to_recording = synthetic_to_recording(spoken.samples, spoken.rate, recording)
    for word in spoken.words:
        assert to_recording(word.start) == pytest.approx(0.5 + 1.25 * word.start, abs=0.04), word.text


@pytest.mark.parametrize("timing", ["dtw", "words"])
def test_a_french_recording_is_timed_from_its_text(asterisk_recording, timing):
    path, text = asterisk_recording("agent-pass", "fr")  # "Composez votre mot de passe suivi du dièse."
    audio = load_audio(path)
    alignment = align_other_language(audio, text, "fr", recognizer=load_multilingual_recognizer(), timing=timing)
    assert (alignment.language, alignment.phoneme_source, alignment.transcript_source) == ("fr", "espeak-ng", "given")
    assert [w.word for w in alignment.words][:3] == ["Composez", "votre", "mot"]
    starts = [w.start for w in alignment.words]
    assert starts == sorted(starts) and 0 <= starts[0] < 0.3 and alignment.words[-1].end <= audio.duration + 0.05
    assert sum(p.phone in ("P", "B", "M") for p in alignment.phones) >= 3  # Composez, mot, passe


def test_the_two_timings_agree_on_a_russian_recording(asterisk_recording):
    path, text = asterisk_recording("agent-pass", "ru")
    audio = load_audio(path)
    by_warping = align_other_language(audio, text, "ru", timing="dtw")
    by_words = align_other_language(audio, text, "ru", recognizer=load_multilingual_recognizer(), timing="words")
    middles = lambda a: np.array([(w.start + w.end) / 2 for w in a.words])  # noqa: E731
    assert len(by_warping.words) == len(by_words.words) >= 4
    assert np.median(np.abs(middles(by_warping) - middles(by_words))) < 0.1  # two methods, one answer


def test_auto_tells_the_language_and_english_keeps_pocketsphinx(asterisk_recording):
    russian, _ = asterisk_recording("agent-pass", "ru")
    heard = align_in_language(load_audio(russian), None, "auto")
    assert (heard.language, heard.phoneme_source, heard.transcript_source) == ("ru", "espeak-ng", "recognized")
    assert any("\u0400" <= c <= "\u04ff" for c in heard.transcript)  # Cyrillic: the words Whisper heard
    english, english_text = asterisk_recording("agent-pass")
    aligned = align_in_language(load_audio(english), english_text, "auto")
    assert (aligned.language, aligned.phoneme_source, aligned.method) == ("en", "pocketsphinx", "forced")
    assert aligned.phones[-1].end == pytest.approx(load_audio(english).duration)


def test_language_codes_are_checked_before_any_work():
    assert checked_language(None) == "auto" and checked_language("FR") == "fr"
    for bad in ("tlh", "../../etc", "x" * 40):
        with pytest.raises(InputError, match="eSpeak NG has no voice"):
            checked_language(bad)
