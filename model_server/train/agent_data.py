"""The learned agent's training data: each corpus clip's speech as agent features, beside its transcript
and the instruction (in canonical grammar) that its face followed.

    python -m model_server.train.agent_data --corpus data/corpus

The corpus keeps audio for test clips only, so a training clip's heard speech is rendered again from
its manifest record: the same espeak-ng voice and settings, the same augmentation (its noise drawn
afresh at the recorded level and colour). Features go to <corpus>/agent/<id>.npz; clips already
done are skipped, so an interrupted run continues where it stopped.

Beside the corpus clips, the training lines of train/emotional_lines.py are spoken by LINE_VOICES
training voices each, with a speaker's plain prosody and a random recording condition, and labelled
with their emotion at intensity 1 (<corpus>/agent/lines/<id>.npz): the clips where only the words
say how the speaker feels.
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

import numpy as np

from ..agent.grammar import StyleControls, controls_for_emotion, format_instruction
from ..agent.speech_features import agent_speech_features
from ..audio.alignment import align_phones
from ..audio.loading import load_audio
from ..audio.prosody import analyze_prosody
from ..audio.types import SAMPLE_RATE, Audio, Phone
from .augment import Augmentation, apply_augmentation, sample_augmentation
from .corpus import synthesize_speech
from .emotional_lines import split_lines
from .styles import EspeakParams, sample_speaker
from .synthesis_data import clip_path, read_manifest, stored_audio
from .voices import Voice, voices_for

FPS = 25.0
LINE_VOICES = 8  # voices per emotional line
LINE_SEED = 11


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
        stored = stored_audio(arrays, record["id"])
    if stored is not None:
        return stored
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
    save_atomically(out, features=features.astype(np.float16))
    return None


def save_atomically(out: Path, **arrays: np.ndarray) -> None:
    """Written beside, then renamed: a run killed half-way leaves no file that looks finished."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".partial.npz")
    np.savez_compressed(partial, **arrays)
    partial.rename(out)


def build_agent_features(corpus: Path, workers: int = 2, limit: int | None = None,
                         line_limit: int | None = None) -> list[str]:
    """Features for every clip of the corpus (or its first `limit`) and every emotional line's clip (or the
    first `line_limit`); returns the clips that failed (an emotional line that does not align, say)."""
    (Path(corpus) / "agent").mkdir(exist_ok=True)
    records = [r for r in read_manifest(corpus) if clip_path(corpus, r["id"]).exists()][:limit]
    jobs = [(_build_one, (str(corpus), r)) for r in records] + [(_build_line, job) for job in line_jobs(corpus)[:line_limit]]
    if workers <= 1:
        return [failure for failure in map(_run_job, jobs) if failure]
    with Pool(workers) as pool:
        return [failure for failure in pool.imap_unordered(_run_job, jobs, chunksize=8) if failure]


def _run_job(job) -> str | None:
    build, argument = job
    return build(argument)


def line_path(corpus: Path, line_id: str) -> Path:
    return Path(corpus) / "agent" / "lines" / f"{line_id}.npz"


def line_id(line_index: int, take: int) -> str:
    return f"line-{line_index:03d}-{take}"


def line_jobs(corpus: Path) -> list[tuple[str, int, int, str, str]]:
    """(corpus, line index, take, line, emotion): LINE_VOICES takes of every training line."""
    return [(str(corpus), i, take, line, emotion) for i, (emotion, line) in enumerate(split_lines("train"))
            for take in range(LINE_VOICES)]


def _build_line(job: tuple[str, int, int, str, str]) -> str | None:
    corpus, index, take, line, emotion = job
    out = line_path(Path(corpus), line_id(index, take))
    if out.exists():
        return None
    rng = np.random.default_rng([LINE_SEED, index, take])
    voices = voices_for("train")
    voice, speaker = voices[int(rng.integers(len(voices)))], sample_speaker(rng)
    params = EspeakParams(int(round(speaker.rate)), speaker.pitch, int(round(speaker.range_percent)), speaker.amplitude,
                          speaker.word_gap)  # the speaker's own habits: no emotion in the voice
    try:
        with tempfile.TemporaryDirectory(prefix="agent-line-") as folder:
            wav = Path(folder) / "speech.wav"
            synthesize_speech(line, voice, params, wav)
            clean = load_audio(wav)
        phones = align_phones(clean, line, recognize=False, check_fit=False).phones
        heard = Audio(apply_augmentation(clean.samples, sample_augmentation(rng), rng), SAMPLE_RATE, out.stem + ".wav")
        features = agent_speech_features(phones, analyze_prosody(heard, FPS))
    except Exception as exc:  # one line that will not speak or align is skipped, not the whole run
        return f"{out.stem}: {type(exc).__name__}: {exc}"
    save_atomically(out, features=features.astype(np.float16), transcript=np.array(line), emotion=np.array(emotion),
                    voice=np.array(voice.name))
    return None


def load_line_clips(corpus: Path) -> list[AgentClip]:
    instructions = {}
    clips = []
    for path in sorted((Path(corpus) / "agent" / "lines").glob("line-*[0-9].npz")):
        with np.load(path) as data:
            features, transcript, emotion = data["features"].astype(np.float32), str(data["transcript"]), str(data["emotion"])
        if emotion not in instructions:
            instructions[emotion] = format_instruction(controls_for_emotion(emotion, 1))
        clips.append(AgentClip(path.stem, features, transcript, instructions[emotion], emotion, 1))
    return clips


def load_agent_clips(corpus: Path, split: str, limit: int | None = None, lines: bool = True) -> list[AgentClip]:
    """The corpus clips of one split; for "train", the emotional lines' clips too (unless lines=False)."""
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
    if split == "train" and lines:
        clips += load_line_clips(corpus)
    return clips


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model_server.train.agent_data", description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path("data/corpus"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None, help="only the first N clips of the manifest")
    parser.add_argument("--line-limit", type=int, default=None, help="only the first N emotional-line clips")
    args = parser.parse_args(argv)
    failures = build_agent_features(args.corpus, args.workers, args.limit, args.line_limit)
    for failure in failures:
        print(f"skipped {failure}")
    done = len(list((args.corpus / "agent").glob("*.npz")))
    lines = len(list((args.corpus / "agent" / "lines").glob("*.npz")))
    print(f"{done} clips and {lines} emotional-line clips have agent features in {args.corpus / 'agent'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
