"""The same clip animated again is not aligned again: the front end keeps the last few clips' alignments,
keyed by their samples, text and language, and hands out copies."""

from __future__ import annotations

import dataclasses
import threading

import pytest

from model_server.audio.alignment_cache import AlignmentCache
from model_server.audio.front_end import SpeechFrontEnd
from model_server.audio.loading import load_audio
from model_server.audio.types import Alignment, Phone
from model_server.errors import JobCancelled


@pytest.fixture(scope="module")
def demo(repo_root):
    return load_audio(repo_root / "assets" / "demo_speech.wav"), (repo_root / "assets" / "demo_speech.txt").read_text().strip()


def test_the_same_clip_and_text_are_aligned_once(demo):
    audio, text = demo
    front_end = SpeechFrontEnd()
    first = front_end.analyze(audio, text, 25.0)
    stopped = threading.Event()
    stopped.set()  # an alignment that ran now would stop at once: only a kept one can come back
    again = front_end.analyze(audio, text, 30.0, cancel=stopped)
    assert again.alignment == first.alignment and again.alignment.method == "forced"
    assert len(again.prosody.loudness) != len(first.prosody.loudness)  # the analysis itself is at the new rate
    with pytest.raises(JobCancelled):  # other words, or other samples, are aligned anew
        front_end.analyze(audio, text + " again", 25.0, cancel=stopped)
    quieter = dataclasses.replace(audio, samples=audio.samples * 0.5)
    with pytest.raises(JobCancelled):
        front_end.analyze(quieter, text, 25.0, cancel=stopped)
    assert len(front_end.alignments) == 1  # the cancelled ones were not kept


def test_a_changed_copy_leaves_the_kept_alignment_as_found(demo):
    audio, text = demo
    front_end = SpeechFrontEnd()
    first = front_end.analyze(audio, text, 25.0).alignment
    phones, words = list(first.phones), list(first.words)
    first.phones.clear()
    first.words.append(first.words[0])
    first.method = "changed"
    again = front_end.analyze(audio, text, 25.0).alignment
    assert (again.phones, again.words, again.method) == (phones, words, "forced")


def test_the_oldest_clip_makes_way_and_a_failure_is_not_kept(demo):
    audio, _ = demo
    cache, calls = AlignmentCache(size=2), []

    def align(text):
        def run():
            calls.append(text)
            return Alignment([Phone("SIL", 0.0, audio.duration)], [], text, "forced")
        return run

    for text in ("one", "two", "one", "three", "one", "two"):
        assert cache.aligned(audio, text, "en", align(text)).transcript == text
    assert calls == ["one", "two", "three", "two"]  # "one" kept by use; "two" made way for "three"

    def fails():
        raise RuntimeError("decoder failed")

    with pytest.raises(RuntimeError):
        cache.aligned(audio, "four", "en", fails)
    assert cache.aligned(audio, "four", "en", align("four")).transcript == "four" and calls[-1] == "four"
    assert cache.aligned(audio, None, "en", align(None)) is not cache.aligned(audio, None, "en", align(None))
