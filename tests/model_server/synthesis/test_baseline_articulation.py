"""Properties of the baseline articulation: closures, openings, rounding, smoothness, style vs timing."""

from __future__ import annotations

import numpy as np
import pytest

from model_server.arkit import ARKIT_INDEX
from model_server.audio.types import Alignment, Audio, Phone, Prosody, SpeechAnalysis
from model_server.curves import num_frames_for
from model_server.synthesis.baseline import BaselineArticulator
from model_server.synthesis.metrics import lip_aperture

FPS = 25.0
# "Bob saw a map, who knew": bilabials, open vowels and rounding, at a brisk pace.
WORDS = [("B", 0.08), ("AA", 0.12), ("B", 0.07), ("S", 0.09), ("AO", 0.14), ("AH", 0.06), ("M", 0.08),
         ("AE", 0.12), ("P", 0.08), ("SIL", 0.2), ("HH", 0.06), ("UW", 0.14), ("N", 0.06), ("UW", 0.16)]


def phones_from(spec, lead=0.3, tail=0.4) -> list[Phone]:
    phones, t = [Phone("SIL", 0.0, lead)], lead
    for label, length in spec:
        phones.append(Phone(label, t, t + length))
        t += length
    phones.append(Phone("SIL", t, t + tail))
    return phones


def make_analysis(phones: list[Phone], fps: float = FPS) -> SpeechAnalysis:
    duration = phones[-1].end
    frames = num_frames_for(duration, fps)
    speaking = np.zeros(frames)
    for p in phones:
        if p.phone != "SIL":
            speaking[int(p.start * fps):int(np.ceil(p.end * fps))] = 1
    prosody = Prosody(fps, 180 * speaking, speaking, np.where(speaking > 0, -20.0, -80.0), 0.8 * speaking)
    audio = Audio(np.zeros(int(duration * 16000), np.float32), 16000, "synthetic")
    return SpeechAnalysis(audio, Alignment(phones, [], "", "forced"), prosody, [])


def synth(analysis, instruction="A neutral person speaks with relaxed face.", seed=0, fps=FPS):
    segments = [{"start": 0.0, "end": analysis.audio.duration, "instruction": instruction}]
    return BaselineArticulator().synthesize(analysis, segments, seed=seed, fps=fps)


def middle_frames(phones, label, fps=FPS):
    return [int(round((p.start + p.end) / 2 * fps)) for p in phones if p.phone == label]


def test_lips_close_at_every_bilabial_and_open_at_open_vowels():
    phones = phones_from(WORDS)
    out = synth(make_analysis(phones))
    aperture = lip_aperture(out.arkit)
    for label in ("P", "B", "M"):
        assert all(aperture[f] < 0.05 for f in middle_frames(phones, label)), label
    for label in ("AA", "AE"):
        assert all(aperture[f] > 0.3 for f in middle_frames(phones, label)), label
        assert all(out.jaw[f, 0] > 0.08 for f in middle_frames(phones, label)), label


def test_rounding_on_rounded_vowels():
    phones = phones_from(WORDS)
    w = synth(make_analysis(phones)).arkit
    rounding = w[:, ARKIT_INDEX["mouthPucker"]] + w[:, ARKIT_INDEX["mouthFunnel"]]
    for f in middle_frames(phones, "UW"):
        assert rounding[f] > 0.6
    for f in middle_frames(phones, "AE"):
        assert rounding[f] < 0.35


def test_shape_range_and_length():
    analysis = make_analysis(phones_from(WORDS))
    out = synth(analysis)
    frames = num_frames_for(analysis.audio.duration, FPS)
    assert out.arkit.shape == (frames, 52) and out.jaw.shape == (frames, 3)
    assert out.arkit.min() >= 0.0 and out.arkit.max() <= 1.0
    assert np.allclose(out.jaw[:, 0], 0.35 * out.arkit[:, ARKIT_INDEX["jawOpen"]])


def test_no_jitter_in_silence_and_smooth_jaw():
    out = synth(make_analysis(phones_from(WORDS, lead=1.0)))
    jaw = out.arkit[:, ARKIT_INDEX["jawOpen"]]
    assert np.abs(np.diff(jaw[:15], 2)).max() < 1e-3  # the lead-in second is still
    assert np.abs(np.diff(jaw, 2)).max() < 0.6


def test_blinks_happen_and_repeat_per_seed():
    phones = phones_from([("AH", 0.2)] * 40)  # 8 s of speech
    analysis = make_analysis(phones)
    a, b, c = synth(analysis, seed=1), synth(analysis, seed=1), synth(analysis, seed=2)
    blink = a.arkit[:, ARKIT_INDEX["eyeBlinkLeft"]]
    onsets = np.sum((blink[1:] > 0.5) & (blink[:-1] <= 0.5))
    assert 1 <= onsets <= 5
    assert np.array_equal(a.arkit, b.arkit)
    assert not np.array_equal(a.arkit, c.arkit)


def test_instruction_changes_the_face_but_not_lip_timing():
    phones = phones_from(WORDS)
    analysis = make_analysis(phones)
    angry = synth(analysis, "A very angry person speaks with brow quite lowered and lips fairly pressed.")
    happy = synth(analysis, "A very happy person speaks with cheeks quite raised and lip corners strongly pulled up.")
    upper = [ARKIT_INDEX[n] for n in ("browDownLeft", "browDownRight", "cheekSquintLeft", "mouthSmileLeft")]
    assert np.abs(angry.arkit[:, upper] - happy.arkit[:, upper]).mean(axis=0).max() > 0.4
    a, h = lip_aperture(angry.arkit), lip_aperture(happy.arkit)
    assert np.corrcoef(a, h)[0, 1] >= 0.95
    closed = lambda x: set(np.flatnonzero(x < 0.02))  # noqa: E731
    bilabial_frames = {f for label in "PBM" for f in middle_frames(phones, label)}
    assert bilabial_frames <= closed(a) and bilabial_frames <= closed(h)


def test_segment_styles_crossfade_smoothly():
    analysis = make_analysis(phones_from([("AH", 0.2)] * 20))
    duration = analysis.audio.duration
    segments = [{"start": 0.0, "end": duration / 2, "instruction": "A very sad person speaks with inner brow strongly raised."},
                {"start": duration / 2, "end": duration, "instruction": "A very surprised person speaks with outer brow strongly raised."}]
    out = BaselineArticulator().synthesize(analysis, segments, seed=0, fps=FPS)
    outer = out.arkit[:, ARKIT_INDEX["browOuterUpLeft"]]
    boundary = int(duration / 2 * FPS)
    assert outer[boundary - 15] < 0.5 < outer[boundary + 15]
    assert np.abs(np.diff(outer)).max() < 0.2  # no step at the boundary


@pytest.mark.parametrize("fps", [24.0, 30.0, 60.0])
def test_frame_rates(fps):
    phones = phones_from(WORDS)
    out = synth(make_analysis(phones, fps), fps=fps)
    aperture = lip_aperture(out.arkit)
    assert all(aperture[f] < 0.05 for f in middle_frames(phones, "M", fps))
