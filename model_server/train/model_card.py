"""MODEL_CARD.md beside the shipped synthesis weights: what they are, how to remake them, what they reached.

The training command writes the card; the evaluation command adds its table (`--card`).
"""

from __future__ import annotations

import json
from pathlib import Path

CARD = "MODEL_CARD.md"
_EVAL_START, _EVAL_END = "<!-- evaluation:start -->", "<!-- evaluation:end -->"


def write_card(weights_dir: Path) -> Path:
    weights_dir = Path(weights_dir)
    config = json.loads((weights_dir / "config.json").read_text())
    training = config["training"]
    args, recipe = training["args"], training.get("corpus_recipe", {})
    sizes = {p.name: p.stat().st_size for p in sorted(weights_dir.glob("*.safetensors"))}
    lines = [
        "# AVI-Talking stage 2 (talking-face synthesis), CPU-sized",
        "",
        "Speech-content encoder, 128-d content-irrelevant style space, motion decoder, instruction projector",
        f"(text encoder: {config['text_encoder']}, frozen) and a DALL·E-2-style diffusion prior "
        f"(depth {config['prior']['depth']}, {config['prior']['heads']} heads, {config['prior']['timesteps']} steps)"
        " conditioned on the instruction's embedding, its projection and the controls the grammar parses from it.",
        "Output: ARKit-52 weights at 25 fps; jaw pose and FLAME curves are derived from them.",
        "",
        "## Files",
        *[f"- `{name}`: {size / 1e6:.1f} MB" for name, size in sizes.items()],
        "- `config.json`: network sizes, training arguments and the corpus recipe",
        "- `training_log.jsonl`: losses during training",
        "",
        "## Remake them",
        "```",
        f"python -m model_server.train.corpus --out data/corpus --clips {recipe.get('args', {}).get('clips', 'N')} "
        f"--seed {recipe.get('args', {}).get('seed', 0)}",
        "python -m model_server.train.train_synthesis --corpus data/corpus --out assets/models/synthesis "
        + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in args.items()
                   if k in ("seed", "steps_a", "steps_b", "batch", "crop_frames", "lr", "prior_lr")
                   or (k == "device" and v != "cpu")),
        "python -m model_server.eval.evaluate_synthesis --corpus data/corpus --card assets/models/synthesis/MODEL_CARD.md",
        "```",
        "",
        "## Data",
        f"Synthetic corpus: {training['train_clips']} training clips (only clips whose clean speech aligned at phone level),",
        "espeak-ng voices over sentences from Debian's fortune databases, emotion-dependent prosody, augmentation toward",
        "real recordings (pitch shift, reverb, band-limiting, noise). Ground-truth motion: the rule-based articulation",
        "on the clean speech's phone timing plus the expression layer of the sampled style. Held-out voices and",
        "sentences form the test split. While training, half of the clips hear their consonants raised toward the",
        "loudness of the vowels around them, as a person's nasals and bursts are (espeak-ng's are quiet).",
        f"Recipe: `{json.dumps(recipe.get('args', recipe))}`",
        "",
        "## Training",
        f"Seed {args['seed']}; stage A {args['steps_a']} steps (batch {args['batch']}, crops of {args['crop_frames']} frames),"
        f" stage B {args['steps_b']} steps; {training['metrics'].get('training_seconds', '?')} s on "
        + (f"{args.get('threads', 2)} CPU threads" if args.get("device", "cpu") == "cpu" else f"device {args['device']}")
        + f" with torch {training.get('torch', '?')}.",
        "",
        "Validation at the end of training (held-out clips):",
        *[f"- {k}: {v:.4g}" if isinstance(v, float) else f"- {k}: {v}" for k, v in training["metrics"].items()],
        "",
        "## Evaluation",
        _EVAL_START,
        "Not evaluated yet: run the evaluation command above.",
        _EVAL_END,
        "",
    ]
    path = weights_dir / CARD
    old = path.read_text() if path.exists() else ""
    text = "\n".join(lines)
    if _EVAL_START in old:  # keep an earlier evaluation until a new one replaces it
        text = text.split(_EVAL_START)[0] + _EVAL_START + old.split(_EVAL_START)[1].split(_EVAL_END)[0] \
            + _EVAL_END + text.split(_EVAL_END)[1]
    path.write_text(text)
    return path


def write_evaluation(card: Path, table_markdown: str) -> None:
    """Put the evaluation table into the card, replacing an earlier one."""
    text = Path(card).read_text()
    head, rest = text.split(_EVAL_START)
    tail = rest.split(_EVAL_END)[1]
    Path(card).write_text(f"{head}{_EVAL_START}\n{table_markdown.strip()}\n{_EVAL_END}{tail}")
