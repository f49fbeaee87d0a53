"""Evaluate the synthesis models (baseline, learned) on the synthetic corpus and on real speech.

    python -m model_server.eval.evaluate_synthesis --corpus data/corpus [--weights DIR] [--limit N]
        [--flame PATH] [--json PATH] [--speech-dir DIR ...]

Prints one markdown table per section, models as rows, and writes them as JSON with --json:
- held-out synthetic (test split, phone-aligned clips): LVE on the reference head and on FLAME geometry (mm²),
  FDD (1e-5 m);
- instruction following: instruction → motion-style retrieval top-1, emotion recognised in the
  generated motion by a classifier trained on the train split's ground truth;
- disentanglement: the same speech under the clip's and the partner's instruction: jawOpen and
  mouthClose correlation (content must not move: ≥ 0.9), upper-face difference (style must), and the
  diversity of sampled style codes;
- real human speech (no ground truth): /p b m/ closure rate, jaw opening at open vowels and at
  bilabials, loudness–lip-opening correlation (SLCC).
Each model hears the test clip's augmented audio through the product's speech front end, as a user's
file would be, and answers with take 1 (the instruction's typical style); the learned model's take 2
(a diffusion-prior draw) is scored beside it. Blink channels are left out of every comparison: ground truth has none.
The learned row is skipped, with a note, when its weights are missing.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..audio.front_end import SpeechFrontEnd
from ..audio.loading import load_audio
from ..audio.types import SAMPLE_RATE, Audio, SpeechAnalysis
from ..errors import AudioError, InputError
from ..synthesis.baseline import BaselineArticulator
from ..synthesis.layers import NEUTRAL_INSTRUCTION
from ..synthesis.registry import LEARNED_WEIGHTS_DIR
from ..train.model_card import write_evaluation
from ..train.synthesis_data import clip_path, read_manifest
from .emotion_classifier import EmotionClassifier
from .geometry import FaceGeometry, reference_head_geometry, load_flame_geometry
from .metrics import (BILABIALS, OPEN_VOWELS, bilabial_closure, channel_correlation, lip_vertex_error,
                      mean_jaw_opening, retrieval_top1, same_label_top1, speech_lip_correlation, style_diversity,
                      upper_face_difference, upper_face_dynamics_deviation, without_blinks)
from .real_recordings import ALSA_SOUNDS, KLETTRES_EN, alsa_recordings, folder_recordings, klettres_recordings

FPS = 25.0
SEED = 0
SHARED_SPEECH = Path(__file__).resolve().parents[3] / "shared"
STYLE_SAMPLES = 10
MIN_CONTENT_CORRELATION = 0.9  # jawOpen / mouthClose under two instructions: the lips must keep their timing
MM2_PER_M2, FDD_UNIT = 1e6, 1e-5
TRAIN_CLIPS_PER_LIMIT = 20  # with --limit N, the emotion classifier sees at most 20 N training clips


@dataclass
class EvalConfig:
    corpus: Path
    weights: Path | None = None
    limit: int | None = None
    flame: Path | None = None
    json_path: Path | None = None
    card: Path | None = None  # a MODEL_CARD.md whose evaluation section gets these tables
    speech_dirs: list[Path] = field(default_factory=lambda: [ALSA_SOUNDS, KLETTRES_EN, SHARED_SPEECH])


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: dict[str, dict[str, object]] = field(default_factory=dict)  # model → column → value

    def markdown(self) -> str:
        lines = [f"### {self.title}", "", "| model | " + " | ".join(self.columns) + " |",
                 "|---|" + "---|" * len(self.columns)]
        for model, values in self.rows.items():
            lines.append(f"| {model} | " + " | ".join(_cell(values.get(c)) for c in self.columns) + " |")
        return "\n".join(lines)

    def as_json(self) -> dict:
        return {"title": self.title, "columns": self.columns,
                "rows": {m: {c: _json_value(v.get(c)) for c in self.columns} for m, v in self.rows.items()}}


@dataclass
class Candidate:
    """A synthesizer under evaluation, with the time it spent."""

    name: str
    model: object
    seconds: float = 0.0
    audio_seconds: float = 0.0

    def motion(self, analysis: SpeechAnalysis, instruction: str, sampled: bool = False, fps: float = FPS) -> np.ndarray:
        """(T, 52) ARKit weights for the whole clip under one instruction, blinks removed: take 1 (the
        instruction's typical style), or with `sampled` take 2 (a style drawn from seed SEED + 1)."""
        segments = [{"start": 0.0, "end": analysis.audio.duration, "instruction": instruction}]
        start = time.perf_counter()
        articulation = self.model.synthesize(analysis, segments, seed=SEED + int(sampled), fps=fps, guidance=None,
                                             sampled=sampled)
        self.seconds += time.perf_counter() - start
        self.audio_seconds += analysis.audio.duration
        return without_blinks(articulation.arkit)

    @property
    def learned(self) -> bool:
        return hasattr(self.model, "encode_instructions")


def load_candidates(weights: Path | None, notes: list[str]) -> list[Candidate]:
    candidates = [Candidate("baseline", BaselineArticulator())]
    folder = Path(weights) if weights is not None else LEARNED_WEIGHTS_DIR
    if not folder.exists():
        notes.append(f"learned model skipped: no weights at {folder}")
        return candidates
    try:
        from ..synthesis.learned import LearnedSynthesizer

        candidates.append(Candidate("learned", LearnedSynthesizer.load(folder)))
    except Exception as exc:  # any failure to load is reported, and the baseline is still evaluated
        notes.append(f"learned model skipped: {type(exc).__name__}: {exc}")
    return candidates


# --- corpus ------------------------------------------------------------------------------------

def read_split(corpus: Path, split: str, limit: int | None) -> list[dict]:
    """Manifest records of one split whose clip arrays exist and whose ground truth rests on phone-level
    timing, in manifest order. (Clips whose clean speech aligned only word by word have their phones
    spread evenly over each word: that motion is not a lip-accurate reference, and training skips it too.)"""
    records = [r for r in read_manifest(corpus) if r["split"] == split and r.get("alignment_clean") == "forced"
               and clip_path(corpus, r["id"]).is_file()]
    return records[:limit] if limit is not None else records


def clip_arrays(corpus: Path, record: dict) -> dict[str, np.ndarray]:
    with np.load(clip_path(corpus, record["id"])) as data:
        return {k: data[k] for k in data.files}


def clip_audio(arrays: dict[str, np.ndarray], record: dict) -> Audio:
    """The augmented test speech (int16, 16 kHz mono), stored as `audio_aug` or `audio`.

    It divides by 32768, where the corpus wrote × PCM_FULL_SCALE (32767) and the agent's readers
    (synthesis_data.stored_audio) divide by that. The quoted figures come from this scale: with 32767,
    pocketsphinx aligns some augmented clips differently (60 clips: baseline LVE 6.47 → 6.70 mm²)."""
    samples = arrays.get("audio_aug", arrays.get("audio"))
    if samples is None:
        raise KeyError(f"clip {record['id']} has no audio (test clips store the augmented speech)")
    return Audio(samples.astype(np.float32) / 32768.0, SAMPLE_RATE, f"{record['id']}.wav")


# --- sections ----------------------------------------------------------------------------------

def evaluate_test_split(config: EvalConfig, candidates: list[Candidate], front_end: SpeechFrontEnd,
                        demo: FaceGeometry, flame: FaceGeometry, timing: dict, notes: list[str]) -> list[Table]:
    records = read_split(config.corpus, "test", config.limit)
    held_out = Table(f"Held-out synthetic (test split, {len(records)} clips)",
                     ["LVE reference head (mm²)", "LVE FLAME (mm²)", "FDD reference head (1e-5 m)", "FDD FLAME (1e-5 m)",
                      "/p b m/ closure (clean timing)"])
    disentangle = Table("Disentanglement (same speech, own vs partner instruction)",
                        ["jawOpen corr", "mouthClose corr", "upper-face diff", "style diversity"])
    names = ["ground truth"] + [c.name for c in candidates]
    names += [f"{c.name}, {SAMPLED_TAKE}" for c in candidates if c.learned]
    names += [f"{c.name}, {ORACLE_STYLE}" for c in candidates if c.learned]
    scores = {name: {} for name in names}
    truths, generated = [], {c.name: [] for c in candidates}
    heard_counts = {HEARD_PHONE_LEVEL: 0, HEARD_DEGRADED: 0}
    start = time.perf_counter()
    for record in records:
        arrays = clip_arrays(config.corpus, record)
        front = time.perf_counter()
        analysis = front_end.analyze(clip_audio(arrays, record), record["sentence"], FPS)
        timing["front end (s)"] = timing.get("front end (s)", 0.0) + time.perf_counter() - front
        truth, cross = without_blinks(arrays["motion"]), without_blinks(arrays["motion_cross"])
        truths.append(truth)
        heard = HEARD_PHONE_LEVEL if analysis.alignment.method == "forced" else HEARD_DEGRADED
        heard_counts[heard] += 1
        # Closure is judged against the clean speech's phone timing, which the ground truth followed.
        _collect(scores["ground truth"], _style_pair_scores(truth, cross),
                 closure=bilabial_closure(truth, record["phones"], FPS))
        for candidate in candidates:
            own = candidate.motion(analysis, record["instruction"])
            partner = candidate.motion(analysis, record["partner_instruction"])
            generated[candidate.name].append(own)
            vertex = _vertex_scores(own, truth, demo, flame)
            _collect(scores[candidate.name], vertex, _style_pair_scores(own, partner),
                     closure=bilabial_closure(own, record["phones"], FPS), **{heard: vertex["lve_demo"]})
            if candidate.learned:  # splits the error between the speech path and the instruction → style path
                drawn = candidate.motion(analysis, record["instruction"], sampled=True)
                vertex = _vertex_scores(drawn, truth, demo, flame)
                _collect(scores[f"{candidate.name}, {SAMPLED_TAKE}"], vertex,
                         closure=bilabial_closure(drawn, record["phones"], FPS), **{heard: vertex["lve_demo"]})
                oracle = oracle_style_motion(candidate.model, analysis, truth)
                vertex = _vertex_scores(oracle, truth, demo, flame)
                _collect(scores[f"{candidate.name}, {ORACLE_STYLE}"], vertex,
                         closure=bilabial_closure(oracle, record["phones"], FPS), **{heard: vertex["lve_demo"]})
    timing["test split (s)"] = time.perf_counter() - start

    # The ground truth is the baseline articulator's motion on the clean speech's timing: where the heard
    # speech aligns phone by phone, the baseline nearly reproduces it; where it does not, timing must be heard.
    by_timing = Table("Held-out LVE (mm², reference head) by how the heard speech aligned",
                      [f"{group} ({count} clips)" for group, count in heard_counts.items()] + ["median LVE, all clips"])
    for name, s in scores.items():
        held_out.rows[name] = {
            held_out.columns[0]: _mean(s.get("lve_demo", [])) * MM2_PER_M2,
            held_out.columns[1]: _mean(s.get("lve_flame", [])) * MM2_PER_M2,
            held_out.columns[2]: _mean(s.get("fdd_demo", [])) / FDD_UNIT,
            held_out.columns[3]: _mean(s.get("fdd_flame", [])) / FDD_UNIT,
            held_out.columns[4]: _closure_rate(s.get("closure", []))}
        if any(group in s for group in heard_counts):
            by_timing.rows[name] = {column: _mean(s.get(group, [])) * MM2_PER_M2
                                    for column, group in zip(by_timing.columns, heard_counts)}
            by_timing.rows[name][by_timing.columns[2]] = float(np.median(s["lve_demo"])) * MM2_PER_M2
        if "jaw" not in s:  # the oracle row has no second instruction
            continue
        disentangle.rows[name] = {"jawOpen corr": _mean(s.get("jaw", [])), "mouthClose corr": _mean(s.get("close", [])),
                                  "upper-face diff": _mean(s.get("upper", []))}
        for column in ("jawOpen corr", "mouthClose corr"):
            if disentangle.rows[name][column] < MIN_CONTENT_CORRELATION:
                notes.append(f"{name}: {column} {disentangle.rows[name][column]:.3f} is below {MIN_CONTENT_CORRELATION}: "
                             "the instruction changes the lips' timing, not only the style")
    for candidate in candidates:
        if candidate.learned and records:
            instructions = sorted({r["instruction"] for r in records})
            codes = [style_diversity(candidate.model.sample_style_codes(text, STYLE_SAMPLES, seed=SEED, guidance=None))
                     for text in instructions]
            disentangle.rows[candidate.name]["style diversity"] = _mean(codes)

    following = instruction_following(config, candidates, records, truths, generated)
    return [held_out, by_timing, following, disentangle]


def instruction_following(config: EvalConfig, candidates: list[Candidate], records: list[dict],
                          truths: list[np.ndarray], generated: dict[str, list[np.ndarray]]) -> Table:
    table = Table("Instruction following (test split)",
                  ["instruction→motion top-1", "same-emotion top-1", "emotion accuracy"])
    train_limit = None if config.limit is None else TRAIN_CLIPS_PER_LIMIT * config.limit
    train = read_split(config.corpus, "train", train_limit)
    labels = [r["emotion"] for r in records]
    classifier = None
    if len({r["emotion"] for r in train}) >= 2 and records:
        classifier = EmotionClassifier.fit([clip_arrays(config.corpus, r)["motion"] for r in train],
                                           [r["emotion"] for r in train])
        table.rows["ground truth"] = {"emotion accuracy": classifier.accuracy(truths, labels)}
    for candidate in candidates:
        row = table.rows.setdefault(candidate.name, {})
        if classifier is not None:
            row["emotion accuracy"] = classifier.accuracy(generated[candidate.name], labels)
        if candidate.learned and records:
            queries = candidate.model.encode_instructions([r["instruction"] for r in records])
            gallery = candidate.model.encode_motion_styles(truths)
            row["instruction→motion top-1"] = retrieval_top1(queries, gallery)
            row["same-emotion top-1"] = same_label_top1(queries, gallery, labels)
    return table


def real_speech_files(folders: list[Path]) -> list[tuple[Path, str]]:
    """(audio, transcript) pairs: .wav/.flac with a .txt beside it; ALSA's test words from their names;
    KLettres' recordings from its sounds.xml."""
    found = []
    for folder in map(Path, folders):
        if not folder.is_dir():
            continue
        if (folder / "sounds.xml").is_file():
            recordings = klettres_recordings(folder)
        elif folder == ALSA_SOUNDS:
            recordings = alsa_recordings(folder)
        else:
            recordings = folder_recordings(folder)
        found += [(r.path, r.transcript) for r in recordings]
    return found


def evaluate_real_speech(config: EvalConfig, candidates: list[Candidate], front_end: SpeechFrontEnd,
                         timing: dict, notes: list[str]) -> Table:
    files = real_speech_files(config.speech_dirs)
    table = Table(f"Real human speech ({len(files)} files)",
                  ["/p b m/ closure rate", "bilabials", "jawOpen at open vowels", "jawOpen at bilabials", "SLCC"])
    start = time.perf_counter()
    totals = {c.name: {"closed": 0, "bilabials": 0, "open": [], "bilabial": [], "slcc": []} for c in candidates}
    for path, transcript in files:
        try:
            analysis = front_end.analyze(load_audio(path), transcript, FPS)
        except AudioError as exc:
            notes.append(f"skipped {path.name}: {exc}")
            continue
        phones = analysis.alignment.phones
        for candidate in candidates:
            motion = candidate.motion(analysis, NEUTRAL_INSTRUCTION)
            t = totals[candidate.name]
            closed, total = bilabial_closure(motion, phones, FPS)
            if closed < total:
                notes.append(f"{candidate.name}: lips stay open at {total - closed} of {total} /p b m/ in "
                             f"{path.name} ({transcript!r})")
            t["closed"] += closed
            t["bilabials"] += total
            t["open"].append(mean_jaw_opening(motion, phones, FPS, OPEN_VOWELS))
            t["bilabial"].append(mean_jaw_opening(motion, phones, FPS, BILABIALS))
            t["slcc"].append(speech_lip_correlation(motion, analysis.prosody.loudness, phones, FPS))
    for candidate in candidates:
        t = totals[candidate.name]
        table.rows[candidate.name] = {
            "/p b m/ closure rate": t["closed"] / t["bilabials"] if t["bilabials"] else float("nan"),
            "bilabials": t["bilabials"], "jawOpen at open vowels": _mean(t["open"]),
            "jawOpen at bilabials": _mean(t["bilabial"]), "SLCC": _mean(t["slcc"])}
    timing["real speech (s)"] = time.perf_counter() - start
    return table


def evaluate(config: EvalConfig, out=None) -> dict:
    """Run every section, print the tables (to `out`, default stdout) and return them as a JSON-ready dictionary."""
    out = sys.stdout if out is None else out
    wall = time.perf_counter()
    notes: list[str] = []
    timing: dict[str, float] = {}
    candidates = load_candidates(config.weights, notes)
    start = time.perf_counter()
    demo, flame = reference_head_geometry(), load_flame_geometry(config.flame)
    timing["geometry (s)"] = time.perf_counter() - start
    front_end = SpeechFrontEnd()
    tables = evaluate_test_split(config, candidates, front_end, demo, flame, timing, notes)
    tables.append(evaluate_real_speech(config, candidates, front_end, timing, notes))
    for candidate in candidates:
        timing[f"{candidate.name} synthesis (s)"] = candidate.seconds
        timing[f"{candidate.name} s per audio s"] = candidate.seconds / max(candidate.audio_seconds, 1e-9)
    timing["total (s)"] = time.perf_counter() - wall

    for note in notes:
        print(f"note: {note}", file=out)
    print(f"geometry: {demo.name} ({len(demo.lip_vertices)} lip, {len(demo.upper_face_vertices)} upper-face vertices); "
          f"{flame.name} ({len(flame.lip_vertices)} lip, {len(flame.upper_face_vertices)} upper-face vertices)", file=out)
    for table in tables:
        print("\n" + table.markdown(), file=out)
    print("\n### Timing\n\n| step | value |\n|---|---|", file=out)
    for key, value in timing.items():
        print(f"| {key} | {value:.3f} |", file=out)
    result = {"sections": [t.as_json() for t in tables], "timing": timing, "notes": notes,
              "geometry": {"demo": demo.name, "flame": flame.name},
              "units": {"LVE": "mm² (max squared lip-vertex distance per frame, mean over frames)",
                        "FDD": "1e-5 m (signed: prediction minus ground truth)"}}
    if config.card is not None:
        command = "python -m model_server.eval.evaluate_synthesis " + " ".join(sys.argv[1:])
        write_evaluation(config.card, f"`{command}`\n\n" + "\n\n".join(t.markdown() for t in tables))
    if config.json_path is not None:
        Path(config.json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(config.json_path).write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    return result


ORACLE_STYLE = "style encoded from the true motion"
# The test clips' heard (augmented) speech aligns phone by phone, or only word by word or by recognition.
HEARD_PHONE_LEVEL, HEARD_DEGRADED = "heard speech phone-aligned", "word-aligned or recognised"
SAMPLED_TAKE = "take 2 (a prior draw)"


def oracle_style_motion(model, analysis: SpeechAnalysis, truth: np.ndarray) -> np.ndarray:
    """The learned decoder on this speech with the style code of the ground-truth motion (no instruction)."""
    from ..synthesis.content_features import content_features

    content = content_features(analysis.alignment.phones, analysis.prosody)
    return without_blinks(model.decode(content, model.encode_motion_styles([truth])[0]))


def _vertex_scores(predicted: np.ndarray, truth: np.ndarray, demo: FaceGeometry, flame: FaceGeometry) -> dict:
    n = min(len(predicted), len(truth))  # the augmented audio may end a frame off the clean one
    p, t = predicted[:n], truth[:n]
    return {"lve_demo": lip_vertex_error(demo, p, t), "lve_flame": lip_vertex_error(flame, p, t),
            "fdd_demo": upper_face_dynamics_deviation(demo, p, t), "fdd_flame": upper_face_dynamics_deviation(flame, p, t)}


def _style_pair_scores(own: np.ndarray, other: np.ndarray) -> dict:
    """Same speech, two styles: the lips' timing should agree, the upper face should not."""
    return {"jaw": channel_correlation(own, other, "jawOpen"), "close": channel_correlation(own, other, "mouthClose"),
            "upper": upper_face_difference(own, other)}


def _collect(scores: dict[str, list], *clip_scores: dict, **more) -> None:
    for part in (*clip_scores, more):
        for key, value in part.items():
            scores.setdefault(key, []).append(value)


def _closure_rate(counts: list[tuple[int, int]]) -> float:
    """Pooled over clips: closed /p b m/ over all /p b m/."""
    total = sum(t for _, t in counts)
    return sum(c for c, _ in counts) / total if total else float("nan")


def _mean(values) -> float:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if isinstance(value, (int, str)):
        return str(value)
    return f"{value:.3f}" if abs(value) >= 0.01 or value == 0 else f"{value:.2e}"


def _json_value(value):
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return value if isinstance(value, int) else float(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model_server.eval.evaluate_synthesis", description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, required=True, help="corpus folder (manifest.jsonl, clips/)")
    parser.add_argument("--weights", type=Path, help=f"learned model folder (default {LEARNED_WEIGHTS_DIR})")
    parser.add_argument("--limit", type=int, help="evaluate the first N test clips only")
    parser.add_argument("--flame", type=Path, help="a FLAME model file (.pkl/.npz); default: synthetic FLAME-format head")
    parser.add_argument("--json", type=Path, dest="json_path", help="also write the tables as JSON here")
    parser.add_argument("--card", type=Path, help="write the tables into this model card's evaluation section")
    parser.add_argument("--speech-dir", type=Path, action="append", dest="speech_dirs",
                        help=f"folder of real speech (.wav/.flac with .txt beside, or KLettres' sounds.xml); "
                             f"default {ALSA_SOUNDS}, {KLETTRES_EN} and {SHARED_SPEECH}")
    args = vars(parser.parse_args(argv))
    if args["speech_dirs"] is None:
        del args["speech_dirs"]
    try:
        evaluate(EvalConfig(**args))
    except (InputError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
