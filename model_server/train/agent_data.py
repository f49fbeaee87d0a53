"""The learned agent's training data: each corpus clip's speech as agent features, beside its transcript
and the instruction (in canonical grammar) that its face followed.

    python -m model_server.train.agent_data --corpus data/corpus

The corpus keeps audio for test clips only, so a training clip's heard speech is rendered again from
its manifest record: the same espeak-ng voice and settings, the same augmentation (its noise drawn
afresh at the recorded level and colour). Features go to <corpus>/agent/<id>.npz; clips already
done are skipped, so an interrupted run continues where it stopped.
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

import numpy as np

from ..agent.grammar import StyleControls, format_instruction
from ..agent.speech_features import agent_speech_features
from ..audio.loading import load_audio
from ..audio.prosody import analyze_prosody
from ..audio.types import SAMPLE_RATE, Audio, Phone
from .augment import Augmentation, apply_augmentation
from .corpus import synthesize_speech
from .styles import EspeakParams
from .synthesis_data import clip_path, read_manifest
from .voices import Voice

FPS = 25.0


@dataclass
class AgentClip:
    id: str
    features: np.ndarray  # (T, NUM_AGENT_FEATURES)
    transcript: str
    instruction: str  # canonical grammar, from the controls the clip's face followed
    emotion: str
    intensity: int


def features_path(corpus: Path, clip_id: str) -> Path:
    return Path(corpus) / "agent" / f"{clip_id}.npz"


def canonical_instruction(controls: dict) -> str:
    return format_instruction(StyleControls(**controls))


def heard_audio(corpus: Path, record: dict) -> Audio:
    """The augmented speech of a clip: stored for test clips, rendered again for training clips."""
    with np.load(clip_path(corpus, record["id"])) as arrays:
        if "audio" in arrays:
            return Audio(arrays["audio"].astype(np.float32) / 32767, SAMPLE_RATE, f"{record['id']}.wav")
    accent, variant = record["accent"], record["variant"]
    with tempfile.TemporaryDirectory(prefix="agent-data-") as folder:
        wav = Path(folder) / "speech.wav"
        synthesize_speech(record["sentence"], Voice(accent, variant), EspeakParams(**record["espeak"]), wav)
        clean = load_audio(wav)
    augmentation = {k: tuple(v) if isinstance(v, list) else v for k, v in record["augmentation"].items()}
    samples = apply_augmentation(clean.samples, Augmentation(**augmentation), np.random.default_rng([record["index"], 7]))
    return Audio(samples, SAMPLE_RATE, f"{record['id']}.wav")


def clip_features(corpus: Path, record: dict) -> np.ndarray:
    """(T, F) agent features of the heard speech, on the clean speech's phone timing (augmentation
    keeps timing, so the phones the face followed are the phones heard)."""
    prosody = analyze_prosody(heard_audio(corpus, record), FPS)
    phones = [Phone(p, s, e) for p, s, e in record["phones"]]
    return agent_speech_features(phones, prosody)


def _build_one(job: tuple[str, dict]) -> str | None:
    corpus, record = job
    out = features_path(Path(corpus), record["id"])
    if out.exists():
        return None
    try:
        features = clip_features(Path(corpus), record)
    except Exception as exc:  # one clip that will not render again is skipped, not the whole run
        return f"{record['id']}: {type(exc).__name__}: {exc}"
    partial = out.with_suffix(".partial.npz")
    np.savez_compressed(partial, features=features.astype(np.float16))
    partial.rename(out)
    return None


def build_agent_features(corpus: Path, workers: int = 2, limit: int | None = None) -> list[str]:
    """Features for every clip of the corpus (or its first `limit`); returns the clips that failed."""
    (Path(corpus) / "agent").mkdir(exist_ok=True)
    records = [r for r in read_manifest(corpus) if clip_path(corpus, r["id"]).exists()][:limit]
    jobs = [(str(corpus), r) for r in records]
    if workers <= 1:
        return [failure for failure in map(_build_one, jobs) if failure]
    with Pool(workers) as pool:
        return [failure for failure in pool.imap_unordered(_build_one, jobs, chunksize=8) if failure]


def load_agent_clips(corpus: Path, split: str, limit: int | None = None) -> list[AgentClip]:
    clips = []
    for record in [r for r in read_manifest(corpus) if r["split"] == split]:
        path = features_path(corpus, record["id"])
        if not path.exists():
            continue
        with np.load(path) as data:
            features = data["features"].astype(np.float32)
        clips.append(AgentClip(record["id"], features, record["sentence"], canonical_instruction(record["controls"]),
                               record["emotion"], int(record["intensity"])))
        if limit is not None and len(clips) >= limit:
            break
    return clips


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model_server.train.agent_data", description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path("data/corpus"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None, help="only the first N clips of the manifest")
    args = parser.parse_args(argv)
    failures = build_agent_features(args.corpus, args.workers, args.limit)
    for failure in failures:
        print(f"skipped {failure}")
    done = len(list((args.corpus / "agent").glob("*.npz")))
    print(f"{done} clips have agent features in {args.corpus / 'agent'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
