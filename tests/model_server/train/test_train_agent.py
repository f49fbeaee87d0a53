"""The agent's data and training commands end to end on a small real corpus, with a tiny language model
given as a directory (--lm PATH): features, an adapter that loads, an agent that writes grammar."""

from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors.torch import load_file

from model_server.agent.grammar import is_grammatical
from model_server.agent.qformer_agent import QFormerInstructionAgent
from model_server.agent.speech_features import NUM_AGENT_FEATURES
from model_server.audio.front_end import SpeechFrontEnd
from model_server.audio.loading import load_audio
from model_server.errors import InputError
from model_server.train.agent_data import build_agent_features, line_path, load_agent_clips
from model_server.train.emotional_lines import split_lines
from model_server.train.synthesis_data import read_manifest
from model_server.train.train_agent import main as train_main
from tests.tiny_models import AGENT_LINE_CLIPS


@pytest.fixture(scope="module")
def agent_corpus(built_corpus):
    config, _ = built_corpus
    assert build_agent_features(config.out, workers=1, line_limit=AGENT_LINE_CLIPS) == []
    return config.out


def test_agent_features_cover_every_clip_at_its_frame_count(agent_corpus):
    records = {r["id"]: r for r in read_manifest(agent_corpus)}
    clips = load_agent_clips(agent_corpus, "train", lines=False) + load_agent_clips(agent_corpus, "test")
    assert len(clips) == len(records)
    for clip in clips:
        assert clip.features.shape == (records[clip.id]["frames"], NUM_AGENT_FEATURES)
        assert np.isfinite(clip.features).all()
        assert is_grammatical(clip.instruction)  # targets are the canonical grammar
    assert build_agent_features(agent_corpus, workers=1, line_limit=AGENT_LINE_CLIPS) == []  # nothing left to do


def test_emotional_lines_are_spoken_by_several_voices_and_labelled_by_their_words(agent_corpus):
    emotion, line = split_lines("train")[0]
    clips = [c for c in load_agent_clips(agent_corpus, "train") if c.id.startswith("line-")]
    assert len(clips) == AGENT_LINE_CLIPS and {c.transcript for c in clips} == {line}
    assert {(c.emotion, c.intensity) for c in clips} == {(emotion, 1)}
    assert all(is_grammatical(c.instruction) and emotion in c.instruction for c in clips)
    voices = {str(np.load(line_path(agent_corpus, c.id))["voice"]) for c in clips}
    assert len(voices) > 1  # the same words in different voices: only the words carry the label
    assert all(np.isfinite(c.features).all() and len(c.features) > 25 for c in clips)
    assert not any(c.id.startswith("line-") for c in load_agent_clips(agent_corpus, "test"))  # lines train only


def test_trains_an_adapter_for_a_given_language_model(tiny_agent_dir, tiny_lm_dir, front_center_wav):
    out = tiny_agent_dir  # trained by the fixture with this module's command: --steps 4 --log-every 2 --seed 3
    config = json.loads((out / "config.json").read_text())
    assert config["language_model"]["path"] == str(tiny_lm_dir) and config["training"]["args"]["seed"] == 3
    assert (out / "lora.safetensors").is_file() and config["lora"]["rank"] > 0
    log = [json.loads(line) for line in (out / "training_log.jsonl").read_text().splitlines()]
    assert [e["step"] for e in log] == [2, 4] and all(np.isfinite(e["lm"]) and np.isfinite(e["contrastive"]) for e in log)
    card = (out / "MODEL_CARD.md").read_text()
    assert f"--lm {tiny_lm_dir}" in card and "--seed 3" in card and "qformer.safetensors" in card

    agent = QFormerInstructionAgent.load(out)  # finds its language model from the config
    analysis = SpeechFrontEnd().analyze(load_audio(front_center_wav), "front center", 25.0)
    whole, segments = agent.instruct(analysis)
    assert is_grammatical(whole) and segments and all(is_grammatical(s["instruction"]) for s in segments)
    assert segments[0]["start"] >= 0 and segments[-1]["end"] <= analysis.audio.duration + 1e-6


def test_an_adapter_refuses_a_language_model_of_another_shape(agent_corpus, tmp_path, tiny_lm_dir):
    from transformers import AutoModelForCausalLM

    out = tmp_path / "agent"
    train_main(["--corpus", str(agent_corpus), "--out", str(out), "--lm", str(tiny_lm_dir), "--tiny",
                "--steps", "1", "--batch", "2"])
    wider = tmp_path / "wider-lm"
    model = AutoModelForCausalLM.from_pretrained(tiny_lm_dir)
    config = model.config
    config.hidden_size, config.intermediate_size = 48, 96
    AutoModelForCausalLM.from_config(config).save_pretrained(wider)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (tiny_lm_dir / name).exists():
            (wider / name).write_bytes((tiny_lm_dir / name).read_bytes())
    with pytest.raises(InputError, match="train an adapter for it"):
        QFormerInstructionAgent.load(out, lm_path=wider)


def test_training_goes_on_from_a_trained_agent(agent_corpus, tiny_agent_dir, tiny_lm_dir, tmp_path):
    out = tmp_path / "went-on"
    # With a learning rate of 0 the weights stay where --init put them: the trained agent's, not fresh ones.
    train_main(["--corpus", str(agent_corpus), "--out", str(out), "--lm", str(tiny_lm_dir), "--init", str(tiny_agent_dir),
                "--steps", "1", "--batch", "2", "--lr", "0", "--lora-lr", "0"])
    for name in ("qformer.safetensors", "lora.safetensors"):
        before, after = load_file(tiny_agent_dir / name), load_file(out / name)
        assert before.keys() == after.keys() and all(np.array_equal(before[k], after[k]) for k in before)
    config = json.loads((out / "config.json").read_text())
    assert config["qformer"] == json.loads((tiny_agent_dir / "config.json").read_text())["qformer"]
    assert f"--init {tiny_agent_dir}" in (out / "MODEL_CARD.md").read_text()
    with pytest.raises(SystemExit, match="--no-lora must match"):
        train_main(["--corpus", str(agent_corpus), "--out", str(tmp_path / "refused"), "--lm", str(tiny_lm_dir),
                    "--init", str(tiny_agent_dir), "--no-lora", "--steps", "1"])
