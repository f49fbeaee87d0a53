"""Takes: one speech analysis, several seeds, synthesizers chosen by name and loaded once."""

from __future__ import annotations

import numpy as np
import pytest

from model_server.arkit import ARKIT_NAMES
from model_server.audio.loading import load_audio
from model_server.config import PipelineConfig
from model_server.errors import InputError
from model_server.pipeline import TalkingFacePipeline
from model_server.synthesis.registry import DEFAULT_SYNTHESIS, SYNTHESIZERS

ANGRY = "A very angry person speaks with brow strongly lowered and lips fairly pressed."


@pytest.fixture(scope="module")
def pipeline() -> TalkingFacePipeline:
    return TalkingFacePipeline.from_config(PipelineConfig(synthesis="baseline"))


@pytest.fixture(scope="module")
def audio(front_center_wav):
    return load_audio(front_center_wav)


def test_takes_share_timing_and_lips_and_differ_in_expression_strength(pipeline, audio):
    stages = []
    takes = pipeline.takes(audio, transcript="front center", instruction=ANGRY, seed=5, samples=3,
                           progress=lambda fraction, stage: stages.append((fraction, stage)))
    assert [t["model"]["take"] for t in takes] == [
        {"index": k + 1, "seed": 5 + k, "guidance": None, "style": "sampled" if k else "typical"} for k in range(3)]
    assert all(t["model"]["synthesis"]["id"] == "baseline" for t in takes)
    for key in ("num_frames", "fps", "phones", "segments", "instruction", "transcript"):
        assert all(t[key] == takes[0][key] for t in takes), key
    weights = [np.array(t["arkit"]["weights"]) for t in takes]
    jaw = ARKIT_NAMES.index("jawOpen")
    brow = ARKIT_NAMES.index("browDownLeft")
    for other in weights[1:]:
        np.testing.assert_array_equal(other[:, jaw], weights[0][:, jaw])  # content does not depend on the seed
        assert np.abs(other[:, brow] - weights[0][:, brow]).max() > 1e-3  # the baseline's strength does
    assert np.abs(weights[2][:, brow] - weights[1][:, brow]).max() > 1e-3  # each sampled take its own
    assert [s for _, s in stages].count("aligning phones") == 1  # the speech is analysed once
    assert [f for f, _ in stages] == sorted(f for f, _ in stages) and stages[-1] == (1.0, "done")
    assert "synthesizing motion (take 3 of 3)" in [s for _, s in stages]


def test_a_long_line_reports_progress_inside_alignment_and_recognition(pipeline, long_speech_wav):
    """A long line does not sit at one figure while it is aligned: each pass over the audio reports how far
    it is, with the time left, and the figures only rise."""
    from tests.conftest import REPO

    audio = load_audio(long_speech_wav)
    text = " ".join([(REPO / "assets" / "demo_speech.txt").read_text().strip()] * 15)
    for transcript, first_stage in ((None, "recognizing speech"), (text, "aligning phones")):
        stages = []
        pipeline(audio, transcript=transcript, instruction=ANGRY, seed=1,
                 progress=lambda fraction, stage: stages.append((fraction, stage)))
        inside = [(f, s) for f, s in stages if "% of pass" in s]
        assert len(inside) >= 4, stages[:12]
        assert inside[0][1].startswith(first_stage)
        assert any("s left" in s for _, s in inside)
        figures = [f for f, _ in stages]
        assert figures == sorted(figures) and 0.05 < inside[-1][0] < 0.6


def test_one_call_is_one_take_and_the_baseline_ignores_guidance(pipeline, audio):
    single = pipeline(audio, transcript="front center", instruction=ANGRY, seed=2)
    assert single["model"]["take"] == {"index": 1, "seed": 2, "guidance": None, "style": "typical"}
    takes = pipeline.takes(audio, transcript="front center", instruction=ANGRY, seed=2, samples=2, guidance=4.0)
    assert takes[0]["model"]["take"]["guidance"] == 4.0 and single["num_frames"] == takes[0]["num_frames"]
    analysis = pipeline.front_end.analyze(audio, "front center", 25.0)
    segments = [{"start": 0.0, "end": audio.duration, "instruction": ANGRY}]
    plain = pipeline.synthesizer.synthesize(analysis, segments, seed=2, fps=25.0)
    guided = pipeline.synthesizer.synthesize(analysis, segments, seed=2, fps=25.0, guidance=4.0)
    np.testing.assert_array_equal(plain.arkit, guided.arkit)


@pytest.mark.parametrize("options, fragment", [
    ({"samples": 0}, "samples"), ({"samples": 17}, "samples"), ({"guidance": -0.5}, "guidance"),
    ({"guidance": float("nan")}, "guidance"), ({"synthesis": "nope"}, "available: learned, baseline"),
    ({"seed": -1}, "seed"), ({"seed": 2**33}, "seed"),
    ({"segments": [{"start": 9.0, "end": 12.0, "instruction": ANGRY}]}, "no segment overlaps"),
    ({"segments": [{"start": 0.0, "end": 1.0, "instruction": ""}]}, "no instruction text"),
    ({"segments": [{"start": float("nan"), "end": 1.0, "instruction": ANGRY}]}, "must be numbers"),
])
def test_bad_options_are_refused_with_a_message(pipeline, audio, options, fragment):
    with pytest.raises(InputError, match=fragment):
        pipeline.takes(audio, transcript="front center", **options)


def test_synthesizers_are_loaded_once_by_name_and_the_default_is_one_constant(pipeline):
    assert DEFAULT_SYNTHESIS in SYNTHESIZERS and set(SYNTHESIZERS) == {"learned", "baseline"}
    assert PipelineConfig().synthesis == DEFAULT_SYNTHESIS
    assert pipeline.synthesizer_named("baseline") is pipeline.synthesizer_named(None) is pipeline.synthesizer
    assert pipeline.describe("baseline")["synthesis"]["name"] == "baseline-dominance-visemes"
    with pytest.raises(InputError, match="unknown synthesis model"):
        TalkingFacePipeline.from_config(PipelineConfig(synthesis="nope"))


@pytest.mark.parametrize("synthesis", SYNTHESIZERS)
@pytest.mark.parametrize("fps", [24.0, 25.0, 60.0])
def test_clips_of_a_tenth_to_three_tenths_of_a_second_animate(front_center_wav, fps, synthesis):
    """Shorter than the brow-smoothing window: the style layer used to fail on a shape mismatch."""
    import soundfile

    speech, rate = soundfile.read(str(front_center_wav), dtype="float32")
    shared = TalkingFacePipeline.from_config(PipelineConfig(synthesis=synthesis))
    for start, seconds in ((0.0, 0.1), (0.2, 0.13), (0.5, 0.19), (0.0, 0.25), (0.7, 0.3)):
        clip = load_audio(_wav(speech[int(start * rate):int((start + seconds) * rate)], rate))
        curves = shared.takes(clip, transcript="front", instruction=ANGRY, fps=fps, samples=2)[1]
        assert curves["num_frames"] >= 2 and np.isfinite(np.asarray(curves["arkit"]["weights"])).all()


def _wav(samples: np.ndarray, rate: int) -> bytes:
    import io

    import soundfile

    out = io.BytesIO()
    soundfile.write(out, samples, rate, format="WAV")
    return out.getvalue()
