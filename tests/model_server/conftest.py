"""Fixtures of the model process's tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def pipeline():
    """The pipeline with the rule-based agent (no language model to load): the learned synthesis is one
    argument away (`synthesis="learned"`)."""
    from model_server.config import PipelineConfig
    from model_server.pipeline import TalkingFacePipeline

    return TalkingFacePipeline.from_config(PipelineConfig(agent="baseline"))
