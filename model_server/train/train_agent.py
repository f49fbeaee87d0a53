"""Train the learned instruction agent's adapter (speech encoder + Q-Former + projections) for a language model.

    python -m model_server.train.agent_data --corpus data/corpus          # once: the clips' agent features
    python -m model_server.train.train_agent --corpus data/corpus --out assets/models/agent [--lm PATH]
    python -m model_server.train.train_agent ... --init assets/models/agent   # go on from a trained agent

The language model's own weights stay frozen (the packaged SmolLM2-135M-Instruct, or the transformers
directory given with --lm); the Q-Former learns, with low-rank adapters on the language model's
attention (agent/lora.py; --no-lora trains the soft prompt alone), per clip:
  - the language-model loss of the clip's instruction (canonical grammar, from the controls its face
    followed) after [soft prompt][transcript prompt], and
  - a contrastive speech–instruction loss: the pooled Q-Former output against the sentence embedding
    of the instruction, with clips of the same emotion and intensity as soft positives.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from ..agent.language_model import load_language_model
from ..agent.qformer import SpeechQFormer, SpeechQFormerConfig
from ..agent.lora import LoraSettings, add_lora, load_lora, save_lora
from ..agent.qformer_agent import (CONFIG_FILE, language_model_info, lm_inputs, load_adapter, pad_frames, save_agent,
                                   target_loss, text_prompt)
from ..synthesis.text_encoder import SentenceEncoder
from .agent_data import AgentClip, load_agent_clips
from .model_card import write_agent_card
from .train_synthesis import log_step, optimizer_step, warmup_cosine

MAX_FRAMES = 300  # 12 s: longer clips are cropped (the corpus has none; a user's corpus may)


def contrastive_loss(speech: torch.Tensor, text: torch.Tensor, labels: list[tuple[str, int]], temperature: float = 0.07):
    """Symmetric InfoNCE; every clip with the same (emotion, intensity) counts as a positive."""
    logits = speech @ text.T / temperature
    same = torch.tensor([[a == b for b in labels] for a in labels], dtype=torch.float32, device=speech.device)
    targets = same / same.sum(1, keepdim=True)
    return 0.5 * (torch.sum(-targets * F.log_softmax(logits, 1), 1).mean()
                  + torch.sum(-targets * F.log_softmax(logits.T, 1), 1).mean())


def batch_of(clips: list[AgentClip], idx: np.ndarray, rng: np.random.Generator):
    crops = []
    for i in idx:
        features = clips[i].features
        start = int(rng.integers(0, len(features) - MAX_FRAMES + 1)) if len(features) > MAX_FRAMES else 0
        crops.append(features[start:start + MAX_FRAMES])
    features, mask = pad_frames(crops)
    return features, mask, [text_prompt(clips[i].transcript) for i in idx], [clips[i].instruction for i in idx]


def train(adapter, lm, tokenizer, clips, text_table, args, log, scale: float) -> None:
    rng = np.random.default_rng(args.seed)
    lora = [p for p in lm.parameters() if p.requires_grad]
    opt = torch.optim.AdamW([{"params": adapter.parameters(), "lr": args.lr},
                             {"params": lora, "lr": args.lora_lr, "weight_decay": 0.0}], weight_decay=1e-2)
    sched = warmup_cosine(opt, args.steps)
    trained = torch.nn.ModuleList([adapter, lm])  # gradients clipped together
    adapter.train()
    start = time.time()
    for step in range(1, args.steps + 1):
        idx = rng.choice(len(clips), args.batch, replace=len(clips) < args.batch)
        features, mask, prompts, targets = batch_of(clips, idx, rng)
        inputs, attention, labels, states = lm_inputs(adapter, lm, tokenizer, features, mask, prompts, targets, scale)
        lm_loss = target_loss(lm, inputs, attention, labels)
        text = torch.from_numpy(np.stack([text_table[t] for t in targets]))
        clip = contrastive_loss(adapter.speech_embedding(states), text, [(clips[i].emotion, clips[i].intensity) for i in idx])
        loss = lm_loss + args.contrastive_weight * clip
        optimizer_step(trained, opt, sched, loss)
        if step % args.log_every == 0 or step == args.steps:
            log_step(log, "agent", step, start, loss, {"lm": lm_loss, "contrastive": clip})


def start_from(weights_dir: Path, lm, lm_info: dict, lora: LoraSettings | None) -> SpeechQFormer:
    """A trained agent's adapter, its low-rank adapters' weights set into `lm`; refused where it was trained
    for another language model or with other low-rank adapters."""
    config = json.loads((Path(weights_dir) / CONFIG_FILE).read_text())
    trained_for = config["language_model"]
    if (trained_for["hidden_size"], trained_for["vocab_size"]) != (lm_info["hidden_size"], lm_info["vocab_size"]):
        raise SystemExit(f"--init {weights_dir} was trained for another language model ({trained_for['name']})")
    if (lora.to_dict() if lora else None) != config.get("lora"):
        raise SystemExit(f"--init {weights_dir} has low-rank adapters {config.get('lora')}; this run wants "
                         f"{lora.to_dict() if lora else None} (--no-lora must match)")
    if lora is not None:
        load_lora(lm, weights_dir)
    return load_adapter(weights_dir, config)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=Path("data/corpus"))
    parser.add_argument("--out", type=Path, default=Path("assets/models/agent"))
    parser.add_argument("--lm", type=Path, default=None, help="a transformers causal-LM directory (default: packaged SmolLM2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--lora-lr", type=float, default=1e-3)
    parser.add_argument("--no-lora", action="store_true", help="keep the language model as it is; train the soft prompt only")
    parser.add_argument("--contrastive-weight", type=float, default=0.5)
    parser.add_argument("--limit", type=int, default=None, help="use at most this many training clips")
    parser.add_argument("--log-every", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tiny", action="store_true", help="a small adapter, for tests")
    parser.add_argument("--init", type=Path, default=None,
                        help="start from this trained agent's weights instead of fresh ones (its adapter sizes apply)")
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    clips = load_agent_clips(args.corpus, "train", args.limit)
    if not clips:
        raise SystemExit(f"no agent features in {args.corpus}; build them with python -m model_server.train.agent_data")
    lm, tokenizer = load_language_model(args.lm)
    for parameter in lm.parameters():
        parameter.requires_grad_(False)
    lm_info = language_model_info(lm, tokenizer, args.lm)
    lora = None if args.no_lora else LoraSettings()
    if lora is not None:
        lm = add_lora(lm, lora)
    if args.init is not None:
        adapter = start_from(args.init, lm, lm_info, lora)
    else:
        cfg = SpeechQFormerConfig(lm_hidden=lm_info["hidden_size"], width=32, queries=4, layers=1, heads=2) if args.tiny \
            else SpeechQFormerConfig(lm_hidden=lm_info["hidden_size"])
        adapter = SpeechQFormer(cfg)
    instructions = sorted({c.instruction for c in clips})
    text_table = dict(zip(instructions, SentenceEncoder().encode(instructions)))
    adapted = sum(p.numel() for p in lm.parameters() if p.requires_grad)
    print(f"{len(clips)} training clips, {len(instructions)} distinct instructions, language model "
          f"{lm_info['name']} ({sum(p.numel() for p in lm.parameters()) / 1e6:.0f}M frozen, "
          f"{adapted / 1e6:.2f}M in low-rank adapters)", flush=True)

    log: list[dict] = []
    started = time.time()
    train(adapter, lm, tokenizer, clips, text_table, args, log, lm_info["embedding_scale"])
    training = {"args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
                "train_clips": len(clips), "line_clips": sum(c.id.startswith("line-") for c in clips),
                "seconds": round(time.time() - started, 1), "torch": torch.__version__}
    save_agent(args.out, adapter, lm_info, training, log, None if lora is None else lora.to_dict())
    if lora is not None:
        save_lora(args.out, lm)
    write_agent_card(args.out)
    print(json.dumps({"wrote": str(args.out), "seconds": training["seconds"]}), flush=True)


if __name__ == "__main__":
    main()
