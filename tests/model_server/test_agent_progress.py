"""A language-model agent writes a reply per segment, all in a few batched passes: the pipeline reports how
many are done before each pass and stops between passes."""

from __future__ import annotations

import threading

import pytest

from model_server.audio.loading import load_audio
from model_server.config import PipelineConfig
from model_server.errors import JobCancelled
from model_server.pipeline import TalkingFacePipeline


@pytest.fixture(scope="module")
def learned_pipeline(tiny_agent_dir, tiny_lm_dir) -> TalkingFacePipeline:
    return TalkingFacePipeline.from_config(PipelineConfig(agent="learned", agent_weights=tiny_agent_dir,
                                                          agent_lm=tiny_lm_dir, synthesis="baseline"))


@pytest.fixture(scope="module")
def dialogue(repo_root):
    """The demo speech: several segments, so several replies."""
    return load_audio(repo_root / "assets" / "demo_speech.wav")


def writing_stages(stages: list[tuple[float, str]]) -> list[tuple[float, str]]:
    return [(fraction, stage) for fraction, stage in stages if stage.startswith("writing instructions: ")]


def test_finished_replies_are_reported_before_each_pass(learned_pipeline, dialogue):
    stages = []
    result = learned_pipeline.instruct(dialogue, progress=lambda f, s: stages.append((f, s)))
    replies = len(result["segments"]) + (1 if len(result["segments"]) > 1 else 0)  # segments, then the whole clip
    writing = writing_stages(stages)
    done = [int(stage.split(": ")[1].split(" of ")[0]) for _, stage in writing]
    assert writing[0][1] == f"writing instructions: 0 of {replies} done" and len(writing) >= 3  # prefill, heads, a pass
    assert done == sorted(done) and all(stage.endswith(f" of {replies} done") for _, stage in writing)
    fractions = [f for f, _ in writing]
    assert fractions == sorted(fractions) and 0.75 <= fractions[0] and fractions[-1] < 1.0


def test_cancel_stops_between_passes(learned_pipeline, dialogue):
    cancel, stages = threading.Event(), []

    def progress(fraction: float, stage: str) -> None:
        stages.append(stage)
        if stage.startswith("writing instructions: "):
            cancel.set()  # as a user's Cancel would, while the first pass runs

    with pytest.raises(JobCancelled):
        learned_pipeline.takes(dialogue, progress=progress, cancel=cancel)
    total = int(stages[-1].split(" of ")[1].split()[0])
    assert total > 2, "the demo speech should give several segments"
    assert stages[-1] == f"writing instructions: 0 of {total} done"  # it stopped at the next pass
