"""The agent's plain-torch language model and tokenizer compute what transformers' do, on the packaged
SmolLM2 and the tiny test model: logits over a left-padded batch and across the key/value cache, token
ids and decoded text. Models it cannot run are refused with the reason."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from model_server.agent.agent_files import check_agent_files
from model_server.agent.language_model import default_lm_dir, load_inference_model, load_language_model
from model_server.agent.plain_llama import KeyValueCache, PlainLlama, causal_attend
from model_server.agent.plain_tokenizer import PlainTokenizer
from model_server.config import LEARNED_AGENT_DIR
from model_server.errors import InputError

TEXTS = ['Transcript: "Well, I never… said Mrs. Bennet!"\nFacial instruction:',
         " A fairly contemptuous person speaks with brow quite lowered and lips pressed, speaking energy high.",
         "  spaces  and\ttabs, naïve café 123 ", ""]


@pytest.fixture(scope="module", params=["packaged", "tiny"])
def folder(request, tiny_lm_dir):
    return default_lm_dir() if request.param == "packaged" else tiny_lm_dir


def test_the_tokenizer_encodes_and_decodes_as_transformers_does(folder):
    ours = PlainTokenizer(folder)
    _, theirs = load_language_model(folder)
    assert (len(ours), ours.eos_token_id, ours.pad_token_id) == (len(theirs), theirs.eos_token_id, theirs.pad_token_id)
    for text in TEXTS:
        ids = ours(text, add_special_tokens=False).input_ids
        assert ids == theirs(text, add_special_tokens=False).input_ids
        for skip in (True, False):
            assert ours.decode(ids + [ours.eos_token_id], skip) == theirs.decode(ids + [ours.eos_token_id], skip_special_tokens=skip)


def test_logits_over_a_padded_batch_and_the_cache_are_transformers_logits(folder):
    plain, tokenizer = load_inference_model(folder)
    reference, _ = load_language_model(folder)
    ids = torch.tensor([tokenizer(TEXTS[1], add_special_tokens=False).input_ids] * 2)
    mask = torch.ones_like(ids)
    mask[1, :4] = 0  # the second row left-padded
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    with torch.no_grad():
        expected = reference(input_ids=ids, attention_mask=mask, position_ids=positions).logits
    cache, split = KeyValueCache(), 7
    first = plain.logits(plain.hidden_states(plain.embed(ids[:, :split]), positions[:, :split],
                                             causal_attend(mask[:, :split], split), cache))
    rest = plain.logits(plain.hidden_states(plain.embed(ids[:, split:]), positions[:, split:],
                                            causal_attend(mask, ids.shape[1] - split), cache))
    ours = torch.cat([first, rest], 1)
    assert cache.length == ids.shape[1]
    torch.testing.assert_close(ours[0], expected[0], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(ours[1, 4:], expected[1, 4:], atol=1e-4, rtol=1e-4)  # padding's own rows are unused
    assert torch.isfinite(ours).all()  # padding sees itself: no NaN reaches the cache


def test_a_padding_position_that_sees_nothing_still_sees_itself():
    attend = causal_attend(torch.tensor([[0, 0, 1, 1]]), 4)[0]
    assert attend.tolist() == [[True, False, False, False], [False, True, False, False],
                               [False, False, True, False], [False, False, True, True]]


def test_models_it_cannot_run_are_refused(tiny_lm_dir, tmp_path):
    for change, reason in (({"architectures": ["GPT2LMHeadModel"]}, "Llama-architecture"),
                           ({"rope_scaling": {"rope_type": "llama3", "factor": 8.0}}, "rotary scaling 'llama3'"),
                           ({"attention_bias": True}, "biases")):
        folder = tmp_path / reason.split()[0].strip("'")
        shutil.copytree(tiny_lm_dir, folder)
        config = json.loads((folder / "config.json").read_text())
        (folder / "config.json").write_text(json.dumps({**config, **change}))
        with pytest.raises(InputError, match=reason):
            PlainLlama.load(folder)
        with pytest.raises(InputError, match=reason):  # what the model process checks before it is ready
            check_agent_files(LEARNED_AGENT_DIR, folder)
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy(tiny_lm_dir / "config.json", bare)
    with pytest.raises(InputError, match="no .safetensors"):
        PlainLlama.load(bare)
    with pytest.raises(InputError, match="no tokenizer.json"):
        PlainTokenizer(bare)
