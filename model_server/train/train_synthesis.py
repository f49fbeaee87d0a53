"""Train the learned synthesis model on the synthetic corpus and write its weights and model card.

    python -m model_server.train.train_synthesis --corpus data/corpus --out assets/models/synthesis

Stage A: content encoder, style encoder, decoder and instruction projector together
  - reconstruction of each clip in its own style and in its partner's style (same speech), with a
    lip-opening loss that weighs the frames where the lips must touch,
  - the paper's style swap across the batch: a mouth-region loss keeps the content clip's lips,
    an upper-face (eye/brow) loss keeps the style clip's expression,
  - soft-CLIP alignment of instruction embeddings and style codes;
  half of the clips hear their consonants raised to about vowel loudness, as a person's are, and half
  hold one /p b m/ closure longer (content_augment.py), so the lips close on the phone for as long
  as it lasts, not on a quiet frame.
Stage A2: pauses. With the style networks frozen (so the style space the later stages learn on stays
  as it is), the content encoder and decoder go on training on clips padded with silence, in which
  the face rests in its style: espeak-ng's clips have no pauses, a person's recordings do.
Stage B: the diffusion prior on (instruction embedding → style code) pairs from the frozen stage A.
Stage C: the typical-style head on the same pairs, by least squares (take 1 of every request).
Stage D: the typical-style head refined through the frozen decoder, so the motion its code decodes
  sits closest, on average, to the training motions' lips (the mean code does not decode to the
  mean motion: the decoder is not linear).

`--stage-a-from DIR` reuses the content/style networks of earlier weights and trains the later stages
only (stage A2 too, unless DIR's training log shows it ran).
"""

from __future__ import annotations

import argparse
import json
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch.nn import functional as F

from ..arkit import ARKIT_INDEX, ARKIT_NAMES
from ..eval.geometry import FaceGeometry, reference_head_geometry
from ..synthesis.diffusion_prior import DiffusionPrior, DiffusionPriorConfig
from ..synthesis.instruction_controls import instruction_controls
from ..synthesis.learned import CONFIG_FILE, MODEL_FILE, MODEL_FPS, save_weights
from ..synthesis.metrics import lip_aperture
from ..synthesis.style_content_model import StyleContentConfig, StyleContentModel
from ..synthesis.text_encoder import SentenceEncoder
from ..synthesis.typical_style import TypicalStyleConfig, TypicalStyleHead
from .content_augment import add_pauses, lengthen_bilabial_hold, raise_consonant_loudness, resting_face
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


def lip_vertex_metric(geometry: FaceGeometry) -> torch.Tensor:
    """(52, 52) M such that e @ M @ e is the mean squared displacement (mm²) of the lip vertices under
    an ARKit weight error e, on a face whose shapes are linear morphs (the reference head): the smooth
    counterpart of LVE, which takes the largest vertex instead of the mean."""
    deltas = torch.from_numpy(np.asarray(geometry.deltas[:, geometry.lip_vertices], np.float32))  # (52, L, 3)
    flat = deltas.reshape(len(deltas), -1) * 1e3  # metres → millimetres
    return flat @ flat.T / deltas.shape[1]


def lip_vertex_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, metric: torch.Tensor) -> torch.Tensor:
    err = pred - target  # (B, T, 52)
    per_frame = torch.einsum("btc,cd,btd->bt", err, metric, err)
    return (per_frame * mask).sum() / mask.sum().clamp(min=1)


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


STAGE_A_LOSS_WEIGHTS = {"rec": 100.0, "lips": 20.0, "swap_mouth": 50.0, "swap_upper": 50.0, "clip": 0.5}


def held_bilabials(clip: CorpusClip, rng: np.random.Generator):
    return lengthen_bilabial_hold(clip.content, [clip.motion, clip.motion_cross], rng)


@contextmanager
def frozen(*parts: torch.nn.Module | torch.nn.Parameter):
    """No gradients for these parts inside the block; trainable again after it."""
    for part in parts:
        part.requires_grad_(False)
    try:
        yield
    finally:
        for part in parts:
            part.requires_grad_(True)


def train_stage_a(model, clips, embed, args, log, *, stage="A", steps=None, lr=None, seed=None,
                  augment=held_bilabials):
    """Stage A over `model`'s trainable parameters (stage A2 calls it with the style networks frozen)."""
    steps = args.steps_a if steps is None else steps
    rng = np.random.default_rng(args.seed if seed is None else seed)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr if lr is None else lr,
                            weight_decay=1e-4)
    sched = warmup_cosine(opt, steps)
    vectors = torch.tensor(np.stack([c.style_vector for c in clips]), device=args.device)
    partner_vectors = torch.tensor(np.stack([c.partner_style_vector for c in clips]), device=args.device)
    text = embed([c.instruction for c in clips]).to(args.device)
    partner_text = embed([c.partner_instruction for c in clips]).to(args.device)
    model.train()
    start = time.time()
    for step in range(1, steps + 1):
        idx = rng.choice(len(clips), args.batch, replace=len(clips) < args.batch)
        content, motion, cross, mask = crop_batch(clips, idx, args.crop_frames, rng, augment)
        batch = [torch.from_numpy(a).to(args.device) for a in (raise_consonant_loudness(content, rng), motion, cross, mask)]
        loss, parts = stage_a_step(model, batch, text[idx], partner_text[idx], vectors[idx], partner_vectors[idx],
                                   STAGE_A_LOSS_WEIGHTS)
        optimizer_step(model, opt, sched, loss)
        if step % args.log_every == 0 or step == steps:
            log_step(log, stage, step, start, loss, parts)


def train_pauses(model, clips, embed, args, log) -> None:
    """Stage A2: stage A's losses on clips padded with pauses, content encoder and decoder only."""
    rests = {c.id: [resting_face(c.controls, MODEL_FPS), resting_face(c.partner_controls, MODEL_FPS)] for c in clips}

    def held_bilabials_and_pauses(clip, rng):
        return add_pauses(*held_bilabials(clip, rng), rests[clip.id], rng)

    with frozen(model.style_encoder, model.instruction_projector, model.logit_scale):
        train_stage_a(model, clips, embed, args, log, stage="A2", steps=args.steps_a2, lr=args.pause_lr,
                      seed=args.seed + 3, augment=held_bilabials_and_pauses)


@torch.inference_mode()
def style_codes_of(model, motions: list[np.ndarray]) -> torch.Tensor:
    model.eval()
    device = next(model.parameters()).device
    return torch.cat([model.style_encoder(torch.from_numpy(m)[None].to(device)) for m in motions])


def style_pairs(model, clips, embed) -> dict[str, torch.Tensor]:
    """Every training motion (own and partner style) as a style code beside what its instruction gives
    the prior and the typical-style head: text embedding, its projection, parsed controls."""
    motions = [c.motion for c in clips] + [c.motion_cross for c in clips]
    codes = style_codes_of(model, motions)
    instructions = [c.instruction for c in clips] + [c.partner_instruction for c in clips]
    text = embed(instructions).to(codes.device)
    with torch.inference_mode():
        projected = model.instruction_projector(text)
    controls = torch.from_numpy(instruction_controls(instructions)).to(codes.device)
    return {"codes": codes.clone(), "text": text, "projected": projected.clone(), "controls": controls}


def fit_on_pairs(module, loss_of, count: int, *, stage: str, steps: int, lr: float, weight_decay: float, seed: int,
                 args, log) -> None:
    """Stages B and C: `steps` optimizer steps on random batches of the `count` style pairs; loss_of(indices) → loss."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(module.parameters(), lr=lr, weight_decay=weight_decay)
    sched = warmup_cosine(opt, steps)
    module.train()
    start = time.time()
    for step in range(1, steps + 1):
        idx = torch.randint(0, count, (args.prior_batch,), generator=gen)
        loss = loss_of(idx)
        optimizer_step(module, opt, sched, loss)
        if step % args.log_every == 0 or step == steps:
            log_step(log, stage, step, start, loss)


def refine_typical_style(model, head, clips, embed, args, log) -> None:
    """Stage D: the head's codes decoded with the frozen content encoder and decoder, scored on the
    lips (lip_vertex_loss on the reference head) and, lightly, on every channel, so the upper face stays."""
    rng = np.random.default_rng(args.seed + 2)
    model.eval()
    metric = lip_vertex_metric(reference_head_geometry()).to(args.device)
    weights = CHANNEL_WEIGHTS.to(args.device)
    instructions = [c.instruction for c in clips], [c.partner_instruction for c in clips]
    text = [embed(i).to(args.device) for i in instructions]
    controls = [torch.from_numpy(instruction_controls(i)).to(args.device) for i in instructions]
    opt = torch.optim.AdamW(head.parameters(), lr=args.refine_lr, weight_decay=1e-2)
    sched = warmup_cosine(opt, args.steps_d)
    head.train()
    start = time.time()
    with frozen(model):
        for step in range(1, args.steps_d + 1):
            idx = rng.choice(len(clips), args.batch, replace=len(clips) < args.batch)
            content, motion, cross, mask = (torch.from_numpy(a).to(args.device)
                                            for a in crop_batch(clips, idx, args.crop_frames, rng))
            with torch.no_grad():
                content_codes = model.content_encoder(content)
            parts = {"lips_mm2": 0.0, "rec": 0.0}
            for side, target in enumerate((motion, cross)):  # own instruction → own motion, partner's → cross
                decoded = model.decoder(content_codes, head(text[side][idx], controls[side][idx]))
                parts["lips_mm2"] = parts["lips_mm2"] + lip_vertex_loss(decoded, target, mask, metric)
                parts["rec"] = parts["rec"] + masked_mse(decoded, target, mask, weights)
            loss = parts["lips_mm2"] + 100.0 * parts["rec"]
            optimizer_step(head, opt, sched, loss)
            if step % args.log_every == 0 or step == args.steps_d:
                log_step(log, "D", step, start, loss, parts)


@torch.inference_mode()
def validation_metrics(model, head, clips: list[CorpusClip], embed) -> dict:
    """Quick held-out numbers for the log (the full table comes from model_server.eval)."""
    model.eval()
    head.eval()
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
    instructions = [c.instruction for c in clips]
    typical = head(embed(instructions), torch.from_numpy(instruction_controls(instructions)))
    metric = lip_vertex_metric(reference_head_geometry())
    lips = [lip_vertex_loss(model(torch.from_numpy(c.content)[None], code[None]).clamp(0, 1),
                            torch.from_numpy(c.motion)[None], torch.ones(1, len(c.motion)), metric).item()
            for c, code in zip(clips, typical)]
    return {"val_reconstruction_mse": float(np.mean(rec)),
            "val_retrieval_same_emotion_top1": float(np.mean(emotions[nearest] == emotions)),
            "val_typical_style_squared_error": float(((typical - codes) ** 2).sum(-1).mean()),
            "val_typical_style_lip_mm2": float(np.mean(lips))}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=Path("data/corpus"))
    parser.add_argument("--out", type=Path, default=Path("assets/models/synthesis"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps-a", type=int, default=6000)
    parser.add_argument("--steps-a2", type=int, default=1500)
    parser.add_argument("--steps-b", type=int, default=6000)
    parser.add_argument("--steps-c", type=int, default=2000)
    parser.add_argument("--steps-d", type=int, default=1500)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--crop-frames", type=int, default=80)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--pause-lr", type=float, default=3e-4, help="learning rate of stage A2 (pauses)")
    parser.add_argument("--prior-batch", type=int, default=128)
    parser.add_argument("--prior-lr", type=float, default=3e-4)
    parser.add_argument("--typical-lr", type=float, default=1e-3)
    parser.add_argument("--refine-lr", type=float, default=1e-3)
    parser.add_argument("--stage-a-from", type=Path, metavar="DIR",
                        help="weights whose content/style networks to keep: train the later stages only "
                             "(A2 too, unless DIR's training log shows it ran)")
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
    if args.stage_a_from is not None:
        cfg = StyleContentConfig.from_dict(json.loads((args.stage_a_from / CONFIG_FILE).read_text())["style_content"])
    prior_cfg = DiffusionPriorConfig(style_dim=cfg.style_dim, width=32, depth=2, heads=2) if args.tiny \
        else DiffusionPriorConfig(style_dim=cfg.style_dim)
    head_cfg = TypicalStyleConfig(style_dim=cfg.style_dim, hidden=32) if args.tiny \
        else TypicalStyleConfig(style_dim=cfg.style_dim)
    model, prior = StyleContentModel(cfg).to(args.device), DiffusionPrior(prior_cfg).to(args.device)
    head = TypicalStyleHead(head_cfg).to(args.device)
    embed = _embedder(args.text_embeddings)

    log: list[dict] = []
    started = time.time()
    if args.stage_a_from is None:
        train_stage_a(model, train, embed, args, log)
    else:
        model.load_state_dict(load_file(args.stage_a_from / MODEL_FILE))
        log += _stage_a_log(args.stage_a_from)
    if args.steps_a2 and not any(entry["stage"] == "A2" for entry in log):
        train_pauses(model, train, embed, args, log)
    save_stage_a(args.out, model, log)  # a run stopped in a later stage resumes with --stage-a-from OUT
    pairs = style_pairs(model, train, embed)
    codes, text, projected, controls = (pairs[k] for k in ("codes", "text", "projected", "controls"))
    fit_on_pairs(prior, lambda i: prior.loss(codes[i], text[i], projected[i], controls[i]), len(codes), stage="B",
                 steps=args.steps_b, lr=args.prior_lr, weight_decay=1e-4, seed=args.seed, args=args, log=log)
    fit_on_pairs(head, lambda i: head.loss(codes[i], text[i], controls[i]), len(codes), stage="C",
                 steps=args.steps_c, lr=args.typical_lr, weight_decay=1e-2, seed=args.seed + 1, args=args, log=log)
    refine_typical_style(model, head, train, embed, args, log)
    model, prior, head = model.cpu(), prior.cpu(), head.cpu()
    metrics = validation_metrics(model, head, val, embed) if val else {}
    metrics["training_seconds"] = round(time.time() - started, 1)
    print(json.dumps(metrics), flush=True)
    training = {"args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
                "train_clips": len(train), "corpus_recipe": _recipe(args.corpus), "metrics": metrics,
                "torch": torch.__version__}
    save_weights(args.out, model, prior, head, training, log)
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


def save_stage_a(out: Path, model: StyleContentModel, log: list[dict]) -> None:
    """The content/style networks alone, in the layout --stage-a-from reads."""
    out.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, out / MODEL_FILE)
    (out / CONFIG_FILE).write_text(json.dumps({"style_content": model.cfg.to_dict(), "stage": "A"}, indent=2) + "\n")
    (out / "training_log.jsonl").write_text("".join(json.dumps(e) + "\n" for e in log))


def _stage_a_log(weights: Path) -> list[dict]:
    """The stage A (and A2) lines of earlier weights' training log, kept beside the new stages' lines."""
    path = Path(weights) / "training_log.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return [entry for entry in map(json.loads, lines) if entry.get("stage") in ("A", "A2")]


def _recipe(corpus: Path) -> dict:
    path = Path(corpus) / "recipe.json"
    return json.loads(path.read_text()) if path.exists() else {}


if __name__ == "__main__":
    main()
