"""Lips close at every /p b m/ on the scene's own frames, for every synthesizer and every take, on a real voice."""

from __future__ import annotations

import numpy as np
import pytest

from model_server.arkit import ARKIT_INDEX
from model_server.audio.loading import load_audio
from model_server.audio.types import Phone
from model_server.synthesis.closure import CLOSURE_EASE_S, close_lips
from model_server.synthesis.metrics import lip_aperture, phone_frames
from model_server.synthesis.visemes import BILABIALS

INSTRUCTION = "A fairly happy person speaks with cheeks quite raised and jaw opening strongly wide."
# "Please press 1 to mute or unmute yourself, 2 to lock or unlock the conference, …, or 8 to exit."
REAL_CLIP = "conf-adminmenu-162"


@pytest.fixture(scope="module")
def real_line(asterisk_recording):
    path, transcript = asterisk_recording(REAL_CLIP)
    return load_audio(path), transcript


def bilabials(document: dict, min_seconds: float = 0.03) -> list[Phone]:
    return [Phone(p["phone"], p["start"], p["end"]) for p in document["phones"]
            if p["phone"] in BILABIALS and p["end"] - p["start"] >= min_seconds]


@pytest.mark.parametrize("synthesis", ["learned", "baseline"])
@pytest.mark.parametrize("fps", [24.0, 25.0, 30.0, 60.0])
def test_every_bilabial_closes_on_a_frame_at_the_scene_rate_in_every_take(pipeline, real_line, synthesis, fps):
    audio, transcript = real_line
    takes = pipeline.takes(audio, transcript=transcript, instruction=INSTRUCTION, seed=5, samples=3,
                           synthesis=synthesis, fps=fps)
    for document in takes:
        aperture = lip_aperture(np.array(document["arkit"]["weights"]))
        phones = bilabials(document)
        assert len(phones) >= 6  # please, press, mute, unmute, volume, …
        for phone in phones:
            frames = phone_frames(phone, fps, len(aperture))
            assert aperture[frames].min() <= 1e-4, (document["model"]["take"], phone)


def test_the_guarantee_changes_the_lips_only_near_bilabials_and_never_the_jaw():
    fps, frames = 30.0, 90
    rng = np.random.default_rng(0)
    arkit = rng.uniform(0.0, 0.6, (frames, 52))
    phones = [Phone("AA", 0.0, 1.0), Phone("P", 1.0, 1.04), Phone("AA", 1.04, 3.0)]
    closed = close_lips(arkit, phones, fps)
    near = np.abs(np.arange(frames) / fps - 1.02) <= 0.02 + CLOSURE_EASE_S + 1e-9
    assert np.array_equal(closed[~near], arkit[~near])
    assert np.array_equal(closed[:, ARKIT_INDEX["jawOpen"]], arkit[:, ARKIT_INDEX["jawOpen"]])
    assert lip_aperture(closed)[round(1.02 * fps)] == pytest.approx(0.0, abs=1e-12)
    # The lips ease shut and open again: the aperture only falls towards the closure and rises after it.
    aperture = lip_aperture(closed)
    assert np.all(aperture <= lip_aperture(arkit) + 1e-12)


def test_a_closure_that_starts_on_a_frame_closes_that_frame_not_the_next():
    fps = 25.0
    arkit = np.full((50, 52), 0.4)
    phones = [Phone("AA", 0.0, 0.6), Phone("M", 0.6, 0.64), Phone("AA", 0.64, 2.0)]  # "one moment": frame 15 only
    aperture = lip_aperture(close_lips(arkit, phones, fps))
    assert aperture[15] == pytest.approx(0.0, abs=1e-12)


def test_a_closure_shorter_than_a_frame_still_closes_the_nearest_frame():
    fps = 24.0
    arkit = np.full((48, 52), 0.4)
    phones = [Phone("AA", 0.0, 1.0), Phone("B", 1.0, 1.02), Phone("AA", 1.02, 2.0)]  # 20 ms: between two frames
    aperture = lip_aperture(close_lips(arkit, phones, fps))
    assert aperture[round(1.01 * fps)] == pytest.approx(0.0, abs=1e-12)
