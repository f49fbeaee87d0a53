"""The pipeline's agent loads on its first instruction: a given instruction never waits for a language model."""

from __future__ import annotations

import pytest

from model_server.audio.loading import load_audio
from model_server.config import PipelineConfig
from model_server.errors import InputError
from model_server.pipeline import TalkingFacePipeline

ANGRY = "A very angry person speaks with brow strongly lowered and lips fairly pressed."


def test_a_given_instruction_never_loads_the_agent(front_center_wav, tmp_path):
    """Adapter weights that are not there: a problem only once the agent is asked to write."""
    config = PipelineConfig(agent="learned", agent_weights=tmp_path / "missing", synthesis="baseline")
    pipeline = TalkingFacePipeline.from_config(config)
    audio = load_audio(front_center_wav)
    curves = pipeline(audio, transcript="front center", instruction=ANGRY)
    assert curves["instruction"] == ANGRY
    assert curves["model"]["agent"] == {"name": "learned", "loaded": False}
    with pytest.raises(InputError, match="train_agent"):
        pipeline.instruct(audio, "front center")


def test_the_agent_loads_once_and_then_describes_itself(front_center_wav):
    pipeline = TalkingFacePipeline.from_config(PipelineConfig(agent="baseline", synthesis="baseline"))
    first = pipeline.agent.loaded()
    assert pipeline.agent.loaded() is first
    assert pipeline.describe()["agent"]["kind"] == "baseline"
    assert pipeline.instruct(load_audio(front_center_wav), "front center")["instruction"]
