"""The shipped learned agent (assets/models/agent) on the packaged language model: it loads, writes the
grammar itself, reads the words when the voice says nothing (the issue's own example pair), hears calm
real speech as calm, and reads the demo's happy sentence as positive."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from model_server.agent.grammar import is_grammatical
from model_server.agent.qformer_agent import (FEATURE_FPS, MAX_INSTRUCTION_TOKENS, QFormerInstructionAgent, lm_inputs,
                                              load_adapter, pad_frames, speech_states, text_prompt)
from model_server.agent.speech_features import agent_speech_features
from model_server.audio.prosody import prosody_at
from model_server.audio.front_end import SpeechFrontEnd
from model_server.config import LEARNED_AGENT_DIR
from model_server.audio.loading import load_audio
from model_server.eval.evaluate_agent import CONTENT_PAIRS, PLAIN, VALENCE, emotion_of, espeak_analysis


@pytest.fixture(scope="module")
def agent():
    return QFormerInstructionAgent.load(LEARNED_AGENT_DIR)


def test_it_writes_the_grammar_without_the_parser_s_help(agent):
    analysis = espeak_analysis(SpeechFrontEnd(), "We are leaving for the station in ten minutes.", PLAIN)
    whole, segments = agent.instruct(analysis)
    assert agent.last_replies and all(is_grammatical(reply) for reply in agent.last_replies)
    assert is_grammatical(whole) and segments


def test_the_words_change_the_emotion_when_the_voice_is_plain(agent):
    front_end = SpeechFrontEnd()
    happy, sad = (espeak_analysis(front_end, line, PLAIN) for line in CONTENT_PAIRS[0])
    assert emotion_of(agent.instruct(happy)[0])[0] != emotion_of(agent.instruct(sad)[0])[0]


def test_calm_real_speech_reads_as_neutral_or_slight(agent, front_center_wav):
    analysis = SpeechFrontEnd().analyze(load_audio(front_center_wav), "front center", FEATURE_FPS)
    whole, segments = agent.instruct(analysis)
    for text in [whole] + [s["instruction"] for s in segments]:
        emotion, intensity = emotion_of(text)
        assert emotion == "neutral" or intensity == 1, text


def test_the_demo_s_happy_sentence_reads_as_positive(agent, repo_root):
    """The demo's second sentence: "Oh, what a wonderful morning it was, and we simply loved every moment."."""
    transcript = (repo_root / "assets" / "demo_speech.txt").read_text().strip()
    analysis = SpeechFrontEnd().analyze(load_audio(repo_root / "assets" / "demo_speech.wav"), transcript, FEATURE_FPS)
    _, segments = agent.instruct(analysis)
    happy = [s for s in segments if s["start"] > 1.0]
    assert happy and all(VALENCE[emotion_of(s["instruction"])[0]] > 0 for s in happy)


def transformers_agent_lm(weights_dir):
    """transformers' model of the agent's language model with peft merging its adapters: the reference the
    agent's plain model (and its own merge) must write like."""
    from model_server.agent.language_model import load_language_model
    from model_server.agent.lora import LoraSettings, add_lora, load_lora

    lm, _ = load_language_model()
    peft_lm = add_lora(lm, LoraSettings(**json.loads((weights_dir / "config.json").read_text())["lora"]))
    load_lora(peft_lm, weights_dir)
    with torch.no_grad():
        return peft_lm.merge_and_unload().eval()


def test_its_drafted_replies_are_what_greedy_decoding_writes(agent):
    """On the shipped model the draft is mostly taken whole: the path where runs of guesses are accepted. The
    reference is transformers' greedy generate() on its own model with peft's merge of the adapters."""
    analysis = espeak_analysis(SpeechFrontEnd(), "That is not what you told me yesterday.", PLAIN)
    features = agent_speech_features(analysis.alignment.phones, prosody_at(analysis, FEATURE_FPS))
    batch, mask = pad_frames([features])
    prefix, _, _, _ = lm_inputs(agent.adapter, agent.lm, agent.tokenizer, batch, mask,
                                [text_prompt(analysis.alignment.transcript)], scale=agent.scale)
    reply, _ = agent.decoder.write(prefix, "greedy")
    reference = transformers_agent_lm(LEARNED_AGENT_DIR)
    with torch.inference_mode():
        out = reference.generate(inputs_embeds=prefix, attention_mask=torch.ones(prefix.shape[:2], dtype=torch.long),
                                 max_new_tokens=MAX_INSTRUCTION_TOKENS, do_sample=False,
                                 pad_token_id=agent.tokenizer.pad_token_id)
    assert reply == agent.tokenizer.decode(out[0], skip_special_tokens=True).strip()
    assert is_grammatical(reply)


def test_segment_states_are_the_ones_one_padded_batch_gives(agent):
    """The whole clip's frames and its segments' run in two batches; each row's Q-Former states are the
    ones a single batch padded to the whole clip gives (shorter rows see padding after their end either way)."""
    generator = np.random.default_rng(0)
    features = generator.normal(size=(400, agent.adapter.cfg.features)).astype(np.float32)
    slices = [features, features[:120], features[120:300], features[300:], features[:3]]
    grouped = speech_states(agent.adapter, slices)
    with torch.inference_mode():
        one_batch = agent.adapter.query_states(*pad_frames(slices))
    for row, expected in zip(grouped, one_batch):
        torch.testing.assert_close(row, expected, atol=1e-5, rtol=1e-4)


def test_the_plain_q_former_gives_transformers_blip2_states(agent):
    """Serving runs plain_qformer's forward pass; training builds transformers' Blip2QFormerModel. The same
    shipped weights give the same states in both, padding masked alike."""
    config = json.loads((LEARNED_AGENT_DIR / "config.json").read_text())
    blip2 = load_adapter(LEARNED_AGENT_DIR, config).eval()
    assert agent.adapter.plain and not blip2.plain
    generator = np.random.default_rng(1)
    slices = [generator.normal(size=(length, agent.adapter.cfg.features)).astype(np.float32) for length in (90, 31, 4)]
    batch, mask = pad_frames(slices)
    with torch.inference_mode():
        torch.testing.assert_close(agent.adapter.query_states(batch, mask), blip2.query_states(batch, mask),
                                   atol=1e-5, rtol=1e-4)


def test_writing_an_instruction_imports_none_of_transformers_modelling(repo_root):
    """The model process's cold start: the agent loads and writes without transformers' or peft's modelling
    code (importing it took about 2.5 s); a fresh process, since the tests import it themselves."""
    import subprocess
    import sys

    script = ("import sys\n"
              "from model_server.agent.qformer_agent import QFormerInstructionAgent\n"
              "from model_server.audio.front_end import SpeechFrontEnd\n"
              "from model_server.audio.loading import load_audio\n"
              "from model_server.config import LEARNED_AGENT_DIR\n"
              "analysis = SpeechFrontEnd().analyze(load_audio('assets/demo_speech.wav'), "
              "open('assets/demo_speech.txt').read(), 25.0)\n"
              "whole, segments = QFormerInstructionAgent.load(LEARNED_AGENT_DIR).instruct(analysis)\n"
              "assert whole and segments\n"
              "print(sorted(m for m in sys.modules if m.startswith(('transformers', 'peft'))))\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=repo_root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
