"""Train the learned synthesis model on the synthetic corpus and write its weights and model card.

    python -m model_server.train.train_synthesis --corpus data/corpus --out assets/models/synthesis

Stage A: content encoder, style encoder, decoder and instruction projector together
  - reconstruction of each clip in its own style and in its partner's style (same speech), with a
    lip-opening loss that weighs the frames where the lips must touch,
  - the paper's style swap across the batch: a mouth-region loss keeps the content clip's lips,
    an upper-face (eye/brow) loss keeps the style clip's expression,
  - soft-CLIP alignment of instruction embeddings and style codes;
  half of the clips hear their consonants raised to about vowel loudness, as a person's are
  (content_augment.py), so the lips close on the phone and not on a quiet frame.
Stage B: the diffusion prior on (instruction embedding → style code) pairs from the frozen stage A.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from ..arkit import ARKIT_INDEX, ARKIT_NAMES
from ..synthesis.diffusion_prior import DiffusionPrior, DiffusionPriorConfig
from ..synthesis.instruction_controls import instruction_controls
from ..synthesis.learned import save_weights
from ..synthesis.metrics import lip_aperture
from ..synthesis.style_content_model import StyleContentConfig, StyleContentModel
from ..synthesis.text_encoder import SentenceEncoder
from .content_augment import raise_consonant_loudness
from .model_card import write_card
from .synthesis_data import CorpusClip, crop_batch, load_clips

MOUTH_CHANNELS = [i for i, n in enumerate(ARKIT_NAMES) if n.startswith(("jaw", "mouth"))]
UPPER_CHANNELS = [i for i, n in enumerate(ARKIT_NAMES)
                  if n.startswith(("brow", "eyeSquint", "eyeWide", "cheekSquint", "noseSneer"))]
# Lip-shaping channels weigh double: lip vertex error is what the paper's metrics watch.
CHANNEL_WEIGHTS = torch.ones(len(ARKIT_NAMES))
CHANNEL_WEIGHTS[MOUTH_CHANNELS] = 2.0
BLINKS = [ARKIT_INDEX["eyeBlinkLeft"], ARKIT_INDEX["eyeBlinkRight"]]
SOFT_TARGET_WIDTH = 0.5
CLOSED_LIPS = 0.05  # ground-truth lip aperture below this counts as closed (the /p b m/ hold)
CLOSED_WEIGHT = 9.0  # closed frames are rare and brief: without extra weight regression blurs them open


def warmup_cosine(opt: torch.optim.Optimizer, total: int, warmup_share: float = 0.05):
    warmup = max(1, int(total * warmup_share))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + np.cos(np.pi * min(1.0, (step - warmup) / max(1, total - warmup))))

    return torch.optim.lr_scheduler.LambdaLR(opt, factor)


def masked_mse(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, weights: torch.Tensor | None = None):
    err = (pred - target) ** 2  # (B, T, C)
    if weights is not None:
        err = err * weights
    return (err.mean(-1) * mask).sum() / mask.sum().clamp(min=1)


def lip_opening_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mouth-region loss on how far the lips are apart, weighted up where they must touch."""
    truth = lip_aperture(target)
    weight = mask * (1.0 + CLOSED_WEIGHT * (truth < CLOSED_LIPS).float())
    return ((lip_aperture(pred) - truth) ** 2 * weight).sum() / mask.sum().clamp(min=1)


def masked_time_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return (x * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True).clamp(min=1)


def soft_clip_loss(text_codes, style_codes, style_vectors, logit_scale):
    """CLIP's symmetric cross-entropy with soft targets: instructions asking for (nearly) the same
    controls are not treated as negatives of each other."""
    logits = logit_scale.exp().clamp(max=100) * text_codes @ style_codes.T
    distances = torch.cdist(style_vectors, style_vectors) ** 2
    targets = torch.softmax(-distances / SOFT_TARGET_WIDTH ** 2 * 10, dim=1)
    return 0.5 * (torch.sum(-targets * F.log_softmax(logits, 1), 1).mean()
                  + torch.sum(-targets.T * F.log_softmax(logits.T, 1), 1).mean())


def stage_a_step(model, batch, text, partner_text, vectors, partner_vectors, loss_weights):
    content, motion, cross, mask = batch
    content_codes = model.content_encoder(content)
    own = model.style_encoder(motion, mask)
    partner = model.style_encoder(cross, mask)
    weights = CHANNEL_WEIGHTS.to(motion)
    own_motion, partner_motion = model.decoder(content_codes, own), model.decoder(content_codes, partner)
    rec = masked_mse(own_motion, motion, mask, weights) + masked_mse(partner_motion, cross, mask, weights)
    lips = lip_opening_loss(own_motion, motion, mask) + lip_opening_loss(partner_motion, cross, mask)
    # The paper's swap: another clip's style on this clip's content.
    perm = torch.roll(torch.arange(len(own)), 1)
    swapped = model.decoder(content_codes, own[perm])
    mouth = masked_mse(swapped[..., MOUTH_CHANNELS], motion[..., MOUTH_CHANNELS], mask)
    upper = F.mse_loss(masked_time_mean(swapped[..., UPPER_CHANNELS], mask),
                       masked_time_mean(motion[perm][..., UPPER_CHANNELS], mask[perm]))
    texts = model.instruction_projector(torch.cat([text, partner_text]))
    styles = torch.cat([own, partner])
    clip = soft_clip_loss(texts, styles, torch.cat([vectors, partner_vectors]), model.logit_scale)
    parts = {"rec": rec, "lips": lips, "swap_mouth": mouth, "swap_upper": upper, "clip": clip}
    return sum(loss_weights[k] * v for k, v in parts.items()), parts


def optimizer_step(module: torch.nn.Module, opt, sched, loss: torch.Tensor) -> None:
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(module.parameters(), 1.0)
    opt.step()
    sched.step()


def log_step(log: list[dict], stage: str, step: int, start: float, loss: torch.Tensor, parts: dict | None = None) -> None:
    entry = {"stage": stage, "step": step, "loss": round(loss.item(), 5),
             **{k: round(v.item(), 5) for k, v in (parts or {}).items()}, "seconds": round(time.time() - start, 1)}
    log.append(entry)
    print(json.dumps(entry), flush=True)


def train_stage_a(model, clips, embed, args, log):
    rng = np.random.default_rng(args.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = warmup_cosine(opt, args.steps_a)
    loss_weights = {"rec": 100.0, "lips": 20.0, "swap_mouth": 50.0, "swap_upper": 50.0, "clip": 0.5}
    vectors = torch.tensor(np.stack([c.style_vector for c in clips]), device=args.device)
    partner_vectors = torch.tensor(np.stack([c.partner_style_vector for c in clips]), device=args.device)
    text = embed([c.instruction for c in clips]).to(args.device)
    partner_text = embed([c.partner_instruction for c in clips]).to(args.device)
    model.train()
    start = time.time()
    for step in range(1, args.steps_a + 1):
        idx = rng.choice(len(clips), args.batch, replace=len(clips) < args.batch)
        content, motion, cross, mask = crop_batch(clips, idx, args.crop_frames, rng)
        batch = [torch.from_numpy(a).to(args.device) for a in (raise_consonant_loudness(content, rng), motion, cross, mask)]
        loss, parts = stage_a_step(model, batch, text[idx], partner_text[idx], vectors[idx], partner_vectors[idx],
                                   loss_weights)
        optimizer_step(model, opt, sched, loss)
        if step % args.log_every == 0 or step == args.steps_a:
            log_step(log, "A", step, start, loss, parts)


@torch.inference_mode()
def style_codes_of(model, motions: list[np.ndarray]) -> torch.Tensor:
    model.eval()
    device = next(model.parameters()).device
    return torch.cat([model.style_encoder(torch.from_numpy(m)[None].to(device)) for m in motions])


def train_stage_b(prior, model, clips, embed, args, log):
    motions = [c.motion for c in clips] + [c.motion_cross for c in clips]
    codes = style_codes_of(model, motions)
    instructions = [c.instruction for c in clips] + [c.partner_instruction for c in clips]
    text = embed(instructions).to(codes.device)
    controls = torch.from_numpy(instruction_controls(instructions)).to(codes.device)
    with torch.inference_mode():
        projected = model.instruction_projector(text)
    codes, projected = codes.clone(), projected.clone()
    gen = torch.Generator().manual_seed(args.seed)
    opt = torch.optim.AdamW(prior.parameters(), lr=args.prior_lr, weight_decay=1e-4)
    sched = warmup_cosine(opt, args.steps_b)
    prior.train()
    start = time.time()
    for step in range(1, args.steps_b + 1):
        idx = torch.randint(0, len(codes), (args.prior_batch,), generator=gen)
        loss = prior.loss(codes[idx], text[idx], projected[idx], controls[idx])
        optimizer_step(prior, opt, sched, loss)
        if step % args.log_every == 0 or step == args.steps_b:
            log_step(log, "B", step, start, loss)


@torch.inference_mode()
def validation_metrics(model, prior, clips: list[CorpusClip], embed) -> dict:
    """Quick held-out numbers for the log (the full table comes from model_server.eval)."""
    model.eval()
    prior.eval()
    rec = []
    for c in clips:
        style = model.style_encoder(torch.from_numpy(c.motion)[None])
        pred = model(torch.from_numpy(c.content)[None], style)[0].clamp(0, 1).numpy()
        keep = [i for i in range(len(ARKIT_NAMES)) if i not in BLINKS]
        rec.append(float(np.mean((pred[:, keep] - c.motion[:, keep]) ** 2)))
    codes = style_codes_of(model, [c.motion for c in clips])
    texts = model.instruction_projector(embed([c.instruction for c in clips]))
    nearest = (texts @ codes.T).argmax(1).numpy()
    emotions = np.array([c.emotion for c in clips])
    return {"val_reconstruction_mse": float(np.mean(rec)),
            "val_retrieval_same_emotion_top1": float(np.mean(emotions[nearest] == emotions))}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=Path("data/corpus"))
    parser.add_argument("--out", type=Path, default=Path("assets/models/synthesis"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps-a", type=int, default=6000)
    parser.add_argument("--steps-b", type=int, default=6000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--crop-frames", type=int, default=80)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--prior-batch", type=int, default=128)
    parser.add_argument("--prior-lr", type=float, default=3e-4)
    parser.add_argument("--limit", type=int, default=None, help="use at most this many training clips")
    parser.add_argument("--log-every", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tiny", action="store_true", help="a small network, for tests")
    parser.add_argument("--device", default="cpu", help="torch device to train on (cpu, cuda)")
    parser.add_argument("--text-embeddings", type=Path,
                        help="instruction embeddings made beforehand (export_text_embeddings); spares loading the sentence encoder")
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    train = load_clips(args.corpus, "train", args.limit)
    val = load_clips(args.corpus, "test", 64)
    if not train:
        raise SystemExit(f"no training clips in {args.corpus}; build it with python -m model_server.train.corpus")
    print(f"{len(train)} training clips, {len(val)} validation clips", flush=True)
    cfg = StyleContentConfig(hidden=32, content_dim=32, style_dim=16) if args.tiny else StyleContentConfig()
    prior_cfg = DiffusionPriorConfig(style_dim=cfg.style_dim, width=32, depth=2, heads=2) if args.tiny \
        else DiffusionPriorConfig(style_dim=cfg.style_dim)
    model, prior = StyleContentModel(cfg).to(args.device), DiffusionPrior(prior_cfg).to(args.device)
    embed = _embedder(args.text_embeddings)

    log: list[dict] = []
    started = time.time()
    train_stage_a(model, train, embed, args, log)
    train_stage_b(prior, model, train, embed, args, log)
    model, prior = model.cpu(), prior.cpu()
    metrics = validation_metrics(model, prior, val, embed) if val else {}
    metrics["training_seconds"] = round(time.time() - started, 1)
    print(json.dumps(metrics), flush=True)
    training = {"args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
                "train_clips": len(train), "corpus_recipe": _recipe(args.corpus), "metrics": metrics,
                "torch": torch.__version__}
    save_weights(args.out, model, prior, training, log)
    write_card(args.out)
    print(f"wrote {args.out}", flush=True)


def _embedder(cache: Path | None):
    """Instruction texts → (N, 384) embeddings: from the sentence encoder, or from a file of them."""
    if cache is None:
        encoder = SentenceEncoder()
        return lambda texts: torch.from_numpy(encoder.encode(texts))
    with np.load(cache) as data:
        table = dict(zip(data["texts"].tolist(), data["embeddings"]))
    return lambda texts: torch.from_numpy(np.stack([table[t] for t in texts]))


def export_text_embeddings(corpus: Path, out: Path) -> None:
    """Embed every instruction of the corpus once, for training where the sentence encoder is not installed."""
    from .synthesis_data import read_manifest

    records = read_manifest(corpus)
    texts = sorted({r[k] for r in records for k in ("instruction", "partner_instruction")})
    np.savez(out, texts=np.array(texts), embeddings=SentenceEncoder().encode(texts))


def _recipe(corpus: Path) -> dict:
    path = Path(corpus) / "recipe.json"
    return json.loads(path.read_text()) if path.exists() else {}


if __name__ == "__main__":
    main()
