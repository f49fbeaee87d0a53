"""The shipped learned synthesis model on real audio: lips follow speech, instructions steer style."""

from __future__ import annotations

import numpy as np
import pytest

from model_server.arkit import ARKIT_INDEX
from model_server.audio.front_end import SpeechFrontEnd
from model_server.audio.loading import load_audio
from model_server.config import DEMO_AUDIO, DEMO_TRANSCRIPT
from model_server.synthesis.learned import LearnedSynthesizer
from model_server.synthesis.metrics import lip_aperture
from model_server.synthesis.registry import LEARNED_WEIGHTS_DIR

ANGRY = "A very angry person speaks with brow strongly lowered, eyes fairly narrowed, and lips quite pressed."
HAPPY = "A very happy person speaks with cheeks quite raised and lip corners strongly pulled up."
BROWS = [ARKIT_INDEX[n] for n in ("browDownLeft", "browDownRight")]
SMILE = [ARKIT_INDEX[n] for n in ("mouthSmileLeft", "mouthSmileRight")]
UPPER = [i for n, i in ARKIT_INDEX.items() if n.startswith(("brow", "eyeSquint", "eyeWide", "cheekSquint", "noseSneer"))]


@pytest.fixture(scope="module")
def model() -> LearnedSynthesizer:
    return LearnedSynthesizer.load(LEARNED_WEIGHTS_DIR)


@pytest.fixture(scope="module")
def demo_analysis():
    audio = load_audio(DEMO_AUDIO)
    return SpeechFrontEnd().analyze(audio, DEMO_TRANSCRIPT.read_text(), 25.0)


def run(model, analysis, instruction, seed=0, fps=25.0, guidance=None, sampled=True):
    segments = [{"start": 0.0, "end": analysis.audio.duration, "instruction": instruction}]
    return model.synthesize(analysis, segments, seed=seed, fps=fps, guidance=guidance, sampled=sampled)


def frames_of(analysis, labels, fps=25.0):
    return [int(round((p.start + p.end) / 2 * fps)) for p in analysis.alignment.phones if p.phone in labels]


def test_lips_close_on_bilabials_and_open_on_open_vowels(model, demo_analysis):
    aperture = lip_aperture(run(model, demo_analysis, HAPPY).arkit)
    bilabial = aperture[frames_of(demo_analysis, {"P", "B", "M"})]
    open_vowels = aperture[frames_of(demo_analysis, {"AA", "AE", "AO", "AW", "AY"})]
    assert len(bilabial) >= 3 and len(open_vowels) >= 3
    assert np.median(bilabial) < 0.35 * np.median(open_vowels)


def test_instruction_changes_the_face_but_not_the_lip_timing(model, demo_analysis):
    angry, happy = run(model, demo_analysis, ANGRY), run(model, demo_analysis, HAPPY)
    jaw_correlation = np.corrcoef(angry.arkit[:, ARKIT_INDEX["jawOpen"]], happy.arkit[:, ARKIT_INDEX["jawOpen"]])[0, 1]
    assert jaw_correlation >= 0.9
    assert angry.arkit[:, BROWS].mean() > happy.arkit[:, BROWS].mean() + 0.15
    assert happy.arkit[:, SMILE].mean() > angry.arkit[:, SMILE].mean() + 0.15


def test_seeds_give_different_takes_of_one_style(model, demo_analysis):
    first, again, other = (run(model, demo_analysis, HAPPY, seed=s) for s in (3, 3, 4))
    np.testing.assert_array_equal(first.arkit, again.arkit)
    assert np.abs(first.arkit[:, UPPER] - other.arkit[:, UPPER]).mean() > 1e-3
    assert other.arkit[:, SMILE].mean() > 0.2  # still smiling


def test_the_typical_style_ignores_the_seed_and_follows_the_instruction(model, demo_analysis):
    first, other = (run(model, demo_analysis, HAPPY, seed=s, sampled=False) for s in (3, 4))
    np.testing.assert_array_equal(first.arkit[:, UPPER], other.arkit[:, UPPER])  # blinks alone follow the seed
    angry = run(model, demo_analysis, ANGRY, sampled=False)
    assert angry.arkit[:, BROWS].mean() > first.arkit[:, BROWS].mean() + 0.15
    assert first.arkit[:, SMILE].mean() > angry.arkit[:, SMILE].mean() + 0.15


def test_free_text_instruction_outside_the_grammar_still_steers(model, demo_analysis):
    free = run(model, demo_analysis, "furious, scowling hard, jaw tight")
    calm = run(model, demo_analysis, "A neutral person speaks with relaxed face.")
    assert free.arkit[:, BROWS].mean() > calm.arkit[:, BROWS].mean() + 0.1


def test_other_frame_rates_and_real_voice(model, front_center_wav):
    audio = load_audio(front_center_wav)
    analysis = SpeechFrontEnd().analyze(audio, "front center", 30.0)
    out = run(model, analysis, HAPPY, fps=30.0)
    assert out.arkit.shape == (len(analysis.prosody.loudness), 52)
    assert out.jaw.shape == (len(out.arkit), 3)
    assert np.isfinite(out.arkit).all() and out.arkit.min() >= 0 and out.arkit.max() <= 1
    assert out.arkit[:, ARKIT_INDEX["jawOpen"]].max() > 0.2  # the mouth moves on a human voice


def test_segment_styles_crossfade_without_jumps(model, demo_analysis):
    mid = demo_analysis.audio.duration / 2
    segments = [{"start": 0.0, "end": mid, "instruction": ANGRY},
                {"start": mid, "end": demo_analysis.audio.duration, "instruction": HAPPY}]
    out = model.synthesize(demo_analysis, segments, seed=0, fps=25.0).arkit
    half = int(mid * 25)
    assert out[: half - 10, BROWS].mean() > out[half + 10:, BROWS].mean() + 0.1
    steps = np.abs(np.diff(out[:, BROWS], axis=0)).max()
    assert steps < 0.15  # no jump at the boundary


def test_rewriting_one_segment_keeps_the_other_segments_styles(model):
    calm = "A neutral person speaks with relaxed face."
    before = model.segment_style_codes([ANGRY, HAPPY, calm], seed=4)
    after = model.segment_style_codes([ANGRY, "A very sad person speaks with lip corners strongly pulled down.", calm], seed=4)
    np.testing.assert_allclose(before[[0, 2]], after[[0, 2]], atol=1e-5)
    assert float(before[1] @ after[1]) < 0.9


def test_the_learned_model_gives_the_job_thread_its_torch_threads_back(demo_analysis):
    """The networks run on one thread, but the agent's language model, in the job thread that loaded and ran
    them (as the server's does on the first Learned request) and in threads started later, keeps both cores."""
    import threading

    import torch

    seen = {}

    def job():
        torch.set_num_threads(2)
        run(LearnedSynthesizer.load(LEARNED_WEIGHTS_DIR), demo_analysis, HAPPY, seed=1)
        seen["job"] = torch.get_num_threads()
        later = threading.Thread(target=lambda: seen.update(later=torch.get_num_threads()))
        later.start()
        later.join()

    thread = threading.Thread(target=job)
    thread.start()
    thread.join()
    assert seen == {"job": 2, "later": 2}
