"""Where the learned model's lip error comes from: the same decoder under style codes from different sources.

    python -m model_server.eval.style_sources --corpus data/corpus [--weights DIR] [--limit 60]

Prints held-out LVE (reference head, mm²) per style source, on the test clips' stored content features:
- the true motion's style (the oracle: what the speech path can reach),
- the typical-style head (take 1: the expected style of the instruction),
- one prior draw at several guidance scales (with the style diversity of 10 draws),
- the mean of 16 prior draws (the prior's estimate of the expected style),
- the style of the training clip whose parsed instruction controls are nearest (one real style that
  the instruction allows), and the mean style of the 16 nearest such clips.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..synthesis.instruction_controls import instruction_controls
from ..synthesis.learned import LearnedSynthesizer
from ..synthesis.registry import LEARNED_WEIGHTS_DIR
from ..train.synthesis_data import CorpusClip, load_clips
from .geometry import reference_head_geometry
from .evaluate_synthesis import MM2_PER_M2
from .metrics import lip_vertex_error, style_diversity, without_blinks

GUIDANCES = (1.0, 1.5, 2.0, 3.0)
DRAWS = 16
NEIGHBOURS = 16
DIVERSITY_DRAWS, DIVERSITY_INSTRUCTIONS = 10, 10
TRAIN_CLIPS = 1500  # training clips searched for the nearest controls


def lve_under(model: LearnedSynthesizer, clips: list[CorpusClip], codes: np.ndarray, geometry) -> float:
    """Mean LVE (mm²) of the decoder on each clip's content under that clip's style code."""
    errors = []
    for clip, code in zip(clips, codes):
        predicted = without_blinks(model.decode(clip.content, np.asarray(code, np.float32)))
        truth = without_blinks(clip.motion)
        n = min(len(predicted), len(truth))
        errors.append(lip_vertex_error(geometry, predicted[:n], truth[:n]))
    return float(np.mean(errors)) * MM2_PER_M2


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-9)


def style_source_rows(model: LearnedSynthesizer, clips: list[CorpusClip], train: list[CorpusClip]) -> list[tuple]:
    geometry = reference_head_geometry()
    texts = [c.instruction for c in clips]
    oracle = model.encode_motion_styles([c.motion for c in clips])
    rows = [("style of the true motion (oracle)", lve_under(model, clips, oracle, geometry), None),
            ("typical style (take 1)", lve_under(model, clips, model.typical_style_codes(texts), geometry), None)]
    for guidance in GUIDANCES:
        codes = model.segment_style_codes(texts, seed=0, guidance=guidance)
        diversity = np.mean([style_diversity(model.sample_style_codes(t, DIVERSITY_DRAWS, seed=0, guidance=guidance))
                             for t in texts[:DIVERSITY_INSTRUCTIONS]])
        rows.append((f"one prior draw, guidance {guidance:g}", lve_under(model, clips, codes, geometry), float(diversity)))
    draws = sum(model.segment_style_codes(texts, seed=seed, guidance=1.0) for seed in range(DRAWS))
    rows.append((f"mean of {DRAWS} prior draws, guidance 1", lve_under(model, clips, _unit(draws), geometry), None))
    train_codes = model.encode_motion_styles([c.motion for c in train])
    wanted, offered = instruction_controls(texts), instruction_controls([c.instruction for c in train])
    distances = ((wanted[:, None] - offered[None]) ** 2).sum(-1)
    nearest = np.argsort(distances, axis=1)[:, :NEIGHBOURS]
    rows.append(("training clip with the nearest parsed controls", lve_under(model, clips, train_codes[nearest[:, 0]], geometry), None))
    rows.append((f"mean style of the {NEIGHBOURS} nearest training clips",
                 lve_under(model, clips, _unit(train_codes[nearest].mean(axis=1)), geometry), None))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model_server.eval.style_sources", description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--weights", type=Path, default=LEARNED_WEIGHTS_DIR)
    parser.add_argument("--limit", type=int, default=60, help="test clips (phone-aligned ones, in manifest order)")
    args = parser.parse_args(argv)
    model = LearnedSynthesizer.load(args.weights)
    clips = load_clips(args.corpus, "test", args.limit)
    train = load_clips(args.corpus, "train", TRAIN_CLIPS)
    print(f"{len(clips)} test clips, {len(train)} training clips searched\n")
    print("| style code | LVE reference head (mm²) | style diversity |\n|---|---:|---:|")
    for name, lve, diversity in style_source_rows(model, clips, train):
        print(f"| {name} | {lve:.2f} | {'' if diversity is None else f'{diversity:.3f}'} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
