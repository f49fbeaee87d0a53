"""A dialogue text that forced alignment can place, but that is not what is said, is caught by how little
of the speech its words cover, and the words heard are used instead, on real recordings."""

from __future__ import annotations

import numpy as np
import pytest

from model_server.audio.alignment import AlignmentFailed, align_phones, transcript_words
from model_server.audio.loading import load_audio
from model_server.audio.transcript_fit import MIN_COVERAGE, speech_coverage, unused_text_note
from model_server.audio.types import SAMPLE_RATE, Audio, Word

# Text that aligns to the demo line though none of it is said: its file name, and another Asterisk line.
NOT_SAID = ["assets demo speech txt", "Please enter your password followed by the pound key"]


@pytest.fixture(scope="module")
def demo_line(repo_root):
    """The demo recording and its dialogue text."""
    return load_audio(repo_root / "assets" / "demo_speech.wav"), (repo_root / "assets" / "demo_speech.txt").read_text().strip()


def test_the_line_s_own_text_covers_its_speech(demo_line, asterisk_recording):
    audio, text = demo_line
    assert speech_coverage(audio, align_phones(audio, text, recognize=False).words) > 0.9
    path, said = asterisk_recording("conf-adminmenu-162")
    other = load_audio(path)
    assert speech_coverage(other, align_phones(other, said, recognize=False).words) > 0.9


@pytest.mark.parametrize("text", NOT_SAID)
def test_a_text_that_is_not_said_aligns_but_covers_little_of_the_speech(demo_line, text):
    audio, _ = demo_line
    placed = align_phones(audio, text, recognize=False, check_fit=False)  # alignment alone accepts it
    assert placed.transcript_source == "given" and placed.words
    assert speech_coverage(audio, placed.words) < MIN_COVERAGE
    with pytest.raises(AlignmentFailed, match="cover only"):
        align_phones(audio, text, recognize=False)


@pytest.mark.parametrize("text", NOT_SAID)
def test_a_text_that_is_not_said_gives_way_to_the_words_heard(demo_line, text):
    audio, said = demo_line
    heard = align_phones(audio, None)
    result = align_phones(audio, text)
    assert result.transcript_source == "recognized" and result.transcript == heard.transcript
    assert len(set(transcript_words(result.transcript)) & set(transcript_words(said))) >= 10
    note = unused_text_note(text, {"transcript_source": result.transcript_source, "transcript": result.transcript})
    assert "does not fit" in note and heard.transcript in note


def test_the_right_text_over_loud_non_speech_keeps_its_forced_alignment(demo_line):
    """Seconds of loud noise after the line fall outside its words, as another line's text would leave
    speech out; the recogniser hears the text's words, so the text's own alignment stays."""
    audio, text = demo_line
    speech = audio.samples[np.abs(audio.samples) > 0.01]
    noise = np.random.default_rng(0).normal(0.0, np.sqrt(np.mean(speech**2)), 10 * SAMPLE_RATE)
    noisy = Audio(samples=np.concatenate([audio.samples, noise]).astype(np.float32), source_sample_rate=SAMPLE_RATE,
                  source="demo line and noise")
    trusted = align_phones(noisy, text, recognize=False, check_fit=False)
    assert speech_coverage(noisy, trusted.words) < MIN_COVERAGE
    checked = align_phones(noisy, text)
    assert checked.transcript_source == "given" and checked.method == trusted.method
    assert checked.phones == trusted.phones


def test_coverage_counts_only_the_loud_frames(demo_line):
    audio, _ = demo_line
    assert speech_coverage(audio, [Word("all", 0.0, audio.duration)]) == 1.0
    assert speech_coverage(audio, []) == 0.0
    half = speech_coverage(audio, [Word("first half", 0.0, audio.duration / 2)])
    assert 0.2 < half < 0.8
    assert unused_text_note("", {"transcript_source": "recognized"}) == ""
    assert unused_text_note("front center", {"transcript_source": "given"}) == ""
