"""Prosody on known signals, and segmentation at pauses."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from model_server.audio.front_end import SpeechFrontEnd
from model_server.audio.loading import load_audio
from model_server.audio.prosody import analyze_prosody
from model_server.audio.types import SAMPLE_RATE, Audio
from model_server.curves import num_frames_for


def tone(freq: float, seconds: float, amplitude: float = 0.5) -> Audio:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return Audio((amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32), SAMPLE_RATE, "tone")


@pytest.mark.parametrize("freq", [90.0, 200.0, 330.0])
def test_pitch_of_a_pure_tone(freq):
    prosody = analyze_prosody(tone(freq, 1.0), 25)
    inner = prosody.f0[2:-2]
    assert np.median(inner) == pytest.approx(freq, rel=0.01)
    assert prosody.voicing[2:-2].min() > 0.8


def test_noise_is_unvoiced_and_silence_is_quiet():
    rng = np.random.default_rng(0)
    noise = Audio((0.3 * rng.standard_normal(SAMPLE_RATE)).astype(np.float32), SAMPLE_RATE, "noise")
    prosody = analyze_prosody(noise, 25)
    assert (prosody.f0 > 0).mean() < 0.1
    quiet = analyze_prosody(Audio(np.r_[tone(200, 0.5).samples, np.zeros(8000, np.float32)], SAMPLE_RATE, "x"), 25)
    assert quiet.loudness[-3] < -80 and quiet.loudness[5] > -10
    assert quiet.loudness_norm[-3] == 0.0 and quiet.loudness_norm[5] > 0.9


@pytest.mark.parametrize("fps", [24.0, 25.0, 29.97, 60.0])
def test_frame_count_matches_the_curves_rule(fps, front_center_wav):
    audio = load_audio(front_center_wav)
    assert len(analyze_prosody(audio, fps).f0) == num_frames_for(audio.duration, fps)


def test_two_sentences_with_a_pause_make_two_segments_that_tile_the_clip(tmp_path):
    first, second = tmp_path / "a.wav", tmp_path / "b.wav"
    subprocess.run(["espeak-ng", "-v", "en-us+f2", "-w", str(first), "I can see the harbour"], check=True)
    subprocess.run(["espeak-ng", "-v", "en-us+f2", "-w", str(second), "we will sail tomorrow"], check=True)
    joined = tmp_path / "joined.wav"
    subprocess.run(["sox", str(first), str(joined.with_name("pad.wav")), "pad", "0", "1.0"], check=True)
    subprocess.run(["sox", str(joined.with_name("pad.wav")), str(second), str(joined)], check=True)
    audio = load_audio(joined)
    analysis = SpeechFrontEnd().analyze(audio, "I can see the harbour. We will sail tomorrow.", 25)
    segments = analysis.segments
    assert len(segments) == 2
    assert segments[0].start == 0.0 and segments[-1].end == pytest.approx(audio.duration)
    assert segments[0].end == segments[1].start
    assert segments[0].pause_after > 0.8
    assert segments[0].text == "i can see the harbour" and segments[1].text.startswith("we will")
    assert all(8 < s.speaking_rate < 20 and s.mean_f0 > 100 for s in segments)
