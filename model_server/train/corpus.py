"""Build the synthetic audio-visual corpus the learned synthesizer trains on.

    python -m model_server.train.corpus --out data/corpus --clips 3000 --seed 0 --workers 2

Per clip (everything drawn from the seed and the clip's index, so any clip can be rebuilt alone):
a sentence and an espeak voice (test clips: test sentences AND held-out voices), a speaking style
(emotion, intensity, face controls, instruction text, emotional prosody), a partner style, and a
recording condition. The face targets come from the CLEAN speech's forced alignment driven by the
sampled controls (`motion`) and by the partner's (`motion_cross`: same words, other style); the model
input comes from the AUGMENTED speech, analysed as users' audio is (`content`).

Output:
    clips/{id}.npz     content (T, 44) float32, motion (T, 52) float32, motion_cross (T, 52) float32,
                       and for test clips audio (n,) int16 at 16 kHz (the augmented speech)
    clips/{id}.json    the clip's manifest record
    manifest.jsonl     all records, one per line (rewritten in id order at the end of a build)
    failures.jsonl     clips skipped, with the reason
    recipe.json        arguments, counts and tool versions
A rerun skips clips whose .npz exists.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from ..agent.grammar import StyleControls
from ..audio.alignment import AlignmentFailed, align_phones
from ..audio.front_end import SpeechFrontEnd
from ..audio.prosody import analyze_prosody
from ..audio.loading import load_audio
from ..audio.types import SAMPLE_RATE, Audio, SpeechAnalysis
from ..curves import num_frames_for
from ..synthesis.baseline import BaselineArticulator
from ..synthesis.content_features import content_features
from .augment import apply_augmentation, sample_augmentation
from .sentences import SentenceBank, load_sentence_bank
from .styles import EspeakParams, StyleSample, controls_dict, espeak_params, sample_speaker, sample_style
from .synthesis_data import PCM_FULL_SCALE
from .voices import Voice, voices_for

FPS = 25.0
RECOGNITION_SHARE = 0.1  # of training clips analysed without the transcript, as audio without dialogue text is
VOICE_ATTEMPTS = 3  # speakers tried per clip for a phone-level alignment of the clean speech


@dataclass(frozen=True)
class CorpusConfig:
    out: Path
    clips: int = 3000
    seed: int = 0
    workers: int = 2
    test_fraction: float = 0.1


class ClipFailed(RuntimeError):
    """This clip cannot be made (a tool failed, alignment unusable); the build skips it."""


def clip_id(index: int) -> str:
    return f"{index:06d}"


# --- one clip -----------------------------------------------------------------------------------------

def synthesize_speech(sentence: str, voice: Voice, params: EspeakParams, wav_path: Path) -> None:
    ssml = f'<speak><prosody range="{params.range_percent}%">{sentence}</prosody></speak>'
    command = ["espeak-ng", "-m", "-v", voice.name, "-s", str(params.rate), "-p", str(params.pitch),
               "-a", str(params.amplitude), "-g", str(params.word_gap), "-w", str(wav_path), ssml]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if result.returncode != 0 or not wav_path.is_file():
        raise ClipFailed(f"espeak-ng failed ({result.returncode}): {result.stderr.strip()[:200]}")


def articulate(analysis: SpeechAnalysis, controls: StyleControls, seed: int) -> np.ndarray:
    """(T, 52) float32 face target: one segment over the clip, no blinks, no per-take jitter."""
    segment = [{"start": 0.0, "end": analysis.audio.duration}]
    result = BaselineArticulator().articulate(analysis, segment, [controls], seed=seed, fps=FPS,
                                              blinks=False, take_jitter=0.0)
    return result.arkit.astype(np.float32)


def _speak_and_align(sentence: str, style: StyleSample, split: str, seed: int, index: int
                     ) -> tuple[Voice, EspeakParams, Audio, SpeechAnalysis, int]:
    """Speak the sentence and align the clean speech to it.

    Some accent × voice pairs do not align phone by phone to the US dictionary's pronunciations:
    another speaker is drawn then (up to VOICE_ATTEMPTS); failing that, the first word-level
    alignment (dictionary phones spread evenly over each word) is used.
    """
    voices = voices_for(split)
    fallback, notes = None, []
    for attempt in range(VOICE_ATTEMPTS):
        rng = np.random.default_rng([seed, index, 1000 + attempt])
        voice = voices[int(rng.integers(len(voices)))]
        params = espeak_params(style, sample_speaker(rng))
        with tempfile.TemporaryDirectory(prefix="corpus-") as folder:
            wav = Path(folder) / "speech.wav"
            synthesize_speech(sentence, voice, params, wav)
            clean = load_audio(wav)
        try:
            # The recognition fallback is skipped: it is slow, and its words could be wrong.
            alignment = align_phones(clean, sentence, recognize=False, check_fit=False)
        except AlignmentFailed as exc:
            notes.append(f"{voice.name}: {exc}")
            continue
        candidate = (voice, params, clean, alignment, attempt + 1)
        if alignment.method == "forced":
            break
        fallback = fallback or candidate
        notes.append(f"{voice.name}: {alignment.method}")
    else:
        if fallback is None:
            raise ClipFailed(f"clean speech did not align to its sentence ({'; '.join(notes)})")
        candidate = fallback
    voice, params, clean, alignment, attempts = candidate
    analysis = SpeechAnalysis(audio=clean, alignment=alignment, prosody=analyze_prosody(clean, FPS))
    return voice, params, clean, analysis, attempts


def _partner_style(rng: np.random.Generator, style: StyleSample) -> StyleSample:
    """Another style for the same words; a different emotion or intensity, so the pair teaches style."""
    for _ in range(20):
        partner = sample_style(rng)
        if (partner.emotion, partner.intensity) != (style.emotion, style.intensity):
            return partner
    return partner


def make_clip(index: int, seed: int, test_fraction: float, bank: SentenceBank, front_end: SpeechFrontEnd,
              clips_dir: Path) -> dict:
    """Build clip `index` into clips_dir; returns its manifest record. Raises ClipFailed."""
    rng = np.random.default_rng([seed, index])
    split = "test" if rng.random() < test_fraction else "train"
    sentences = bank.split(split)
    sentence = sentences[int(rng.integers(len(sentences)))]
    style = sample_style(rng)
    partner = _partner_style(rng, style)
    augmentation = sample_augmentation(rng)
    transcript_given = split == "test" or rng.random() >= RECOGNITION_SHARE
    noise_seed = int(rng.integers(2**31))

    voice, params, clean, clean_analysis, attempts = _speak_and_align(sentence, style, split, seed, index)
    motion = articulate(clean_analysis, style.controls, index)
    motion_cross = articulate(clean_analysis, partner.controls, index)

    try:
        augmented = apply_augmentation(clean.samples, augmentation, np.random.default_rng(noise_seed))
    except (subprocess.SubprocessError, OSError) as exc:
        raise ClipFailed(f"augmentation failed: {exc}") from exc
    heard = Audio(samples=augmented, source_sample_rate=SAMPLE_RATE, source=f"{clip_id(index)}.wav")
    heard_analysis = front_end.analyze(heard, sentence if transcript_given else None, FPS)
    content = content_features(heard_analysis.alignment.phones, heard_analysis.prosody).astype(np.float32)

    frames = num_frames_for(clean.duration, FPS)
    shapes = {"content": content.shape, "motion": motion.shape, "motion_cross": motion_cross.shape}
    if any(shape[0] != frames for shape in shapes.values()):
        raise ClipFailed(f"frame counts disagree with {frames} frames: {shapes}")

    record = {
        "id": clip_id(index), "index": index, "split": split, "sentence": sentence,
        "voice": voice.name, "accent": voice.accent, "variant": voice.variant,
        "voice_attempts": attempts, "espeak": params.as_dict(), "augmentation": augmentation.as_dict(), "transcript_given": transcript_given,
        "emotion": style.emotion, "intensity": style.intensity, "instruction": style.instruction,
        "phrasing": style.phrasing, "controls": controls_dict(style.controls),
        "partner_emotion": partner.emotion, "partner_intensity": partner.intensity,
        "partner_instruction": partner.instruction, "partner_controls": controls_dict(partner.controls),
        "alignment_clean": clean_analysis.alignment.method, "alignment_augmented": heard_analysis.alignment.method,
        "duration": round(clean.duration, 6), "frames": frames, "fps": FPS,
        "phones": [[p.phone, round(p.start, 3), round(p.end, 3)] for p in clean_analysis.alignment.phones],
    }
    arrays = {"content": content, "motion": motion, "motion_cross": motion_cross}
    if split == "test":
        arrays["audio"] = (np.clip(augmented, -1.0, 1.0) * PCM_FULL_SCALE).astype(np.int16)
    _write_clip(clips_dir, record, arrays)
    return record


def _write_clip(clips_dir: Path, record: dict, arrays: dict[str, np.ndarray]) -> None:
    """Record first, arrays last and renamed into place: an existing .npz means a finished clip."""
    name = record["id"]
    (clips_dir / f"{name}.json").write_text(json.dumps(record) + "\n")
    partial = clips_dir / f"{name}.partial.npz"
    with open(partial, "wb") as handle:
        np.savez(handle, **arrays)
    os.replace(partial, clips_dir / f"{name}.npz")


# --- the build ----------------------------------------------------------------------------------------

class _ClipMaker:
    """What each worker process holds: the sentence bank and its own speech front-end (pocketsphinx decoder)."""

    def __init__(self, config: CorpusConfig, bank: SentenceBank) -> None:
        self.config, self.bank = config, bank
        self.front_end = SpeechFrontEnd()
        self.clips_dir = config.out / "clips"

    def __call__(self, index: int) -> tuple[int, dict | None, str | None]:
        try:
            record = make_clip(index, self.config.seed, self.config.test_fraction, self.bank, self.front_end,
                               self.clips_dir)
            return index, record, None
        except Exception as exc:  # noqa: BLE001 - one bad clip must not end a build of thousands
            return index, None, f"{type(exc).__name__}: {exc}"


_WORKER: _ClipMaker | None = None


def _init_worker(config: CorpusConfig, bank: SentenceBank) -> None:
    global _WORKER
    _WORKER = _ClipMaker(config, bank)


def _run_in_worker(index: int) -> tuple[int, dict | None, str | None]:
    assert _WORKER is not None
    return _WORKER(index)


def _results(config: CorpusConfig, bank: SentenceBank, todo: list[int]) -> Iterator[tuple[int, dict | None, str | None]]:
    if config.workers <= 1:
        maker = _ClipMaker(config, bank)
        yield from (maker(i) for i in todo)
        return
    # spawn: each worker loads its own pocketsphinx decoder rather than inheriting the parent's.
    context = multiprocessing.get_context("spawn")
    with context.Pool(config.workers, initializer=_init_worker, initargs=(config, bank)) as pool:
        yield from pool.imap_unordered(_run_in_worker, todo, chunksize=1)


def _tool_version(command: list[str]) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=10)
        return (result.stdout or result.stderr).strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "unknown"


def _versions() -> dict:
    import pocketsphinx
    import scipy

    return {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
            "pocketsphinx": getattr(pocketsphinx, "__version__", "unknown"),
            "espeak-ng": _tool_version(["espeak-ng", "--version"]), "sox": _tool_version(["sox", "--version"]),
            "fortunes": _tool_version(["dpkg-query", "-W", "-f", "${Version}", "fortunes"])}


def read_records(clips_dir: Path) -> list[dict]:
    """Records of the finished clips (those with arrays), in id order."""
    records = []
    for npz in sorted(clips_dir.glob("*.npz")):
        if npz.name.endswith(".partial.npz"):
            continue
        sidecar = npz.with_suffix(".json")
        if sidecar.is_file():
            records.append(json.loads(sidecar.read_text()))
    return records


def _write_manifest(out: Path, records: list[dict]) -> None:
    partial = out / "manifest.jsonl.partial"
    partial.write_text("".join(json.dumps(r) + "\n" for r in records))
    os.replace(partial, out / "manifest.jsonl")


def build_corpus(config: CorpusConfig, log: Callable[[str], None] = print) -> dict:
    """Build (or finish) the corpus in config.out; returns the summary also written to recipe.json."""
    clips_dir = config.out / "clips"
    clips_dir.mkdir(parents=True, exist_ok=True)
    bank = load_sentence_bank(config.test_fraction)
    existing = read_records(clips_dir)
    done = {r["index"] for r in existing}
    todo = [i for i in range(config.clips) if i not in done]
    _write_manifest(config.out, existing)
    log(f"corpus {config.out}: {len(bank.train)} train / {len(bank.test)} test sentences, "
        f"{len(voices_for('train'))} train / {len(voices_for('test'))} test voices; "
        f"{len(existing)} clips present, {len(todo)} to build with {config.workers} worker(s)")

    started, made, failed = time.monotonic(), 0, 0
    with open(config.out / "manifest.jsonl", "a") as manifest, open(config.out / "failures.jsonl", "a") as failures:
        for count, (index, record, error) in enumerate(_results(config, bank, todo), start=1):
            if record is not None:
                manifest.write(json.dumps(record) + "\n")
                manifest.flush()
                made += 1
            else:
                failures.write(json.dumps({"id": clip_id(index), "index": index, "reason": error}) + "\n")
                failures.flush()
                failed += 1
                log(f"clip {clip_id(index)} skipped: {error}")
            if count % 25 == 0 or count == len(todo):
                elapsed = time.monotonic() - started
                rate = count / max(elapsed, 1e-9)
                log(f"{count}/{len(todo)} clips ({made} made, {failed} skipped) in {elapsed:.0f} s, "
                    f"{rate:.2f} clips/s, about {(len(todo) - count) / max(rate, 1e-9) / 60:.1f} min left")

    records = read_records(clips_dir)
    _write_manifest(config.out, records)
    summary = {
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()},
        "fps": FPS,
        "counts": {"clips": len(records), "train": sum(r["split"] == "train" for r in records),
                   "test": sum(r["split"] == "test" for r in records), "skipped_this_run": failed,
                   "built_this_run": made, "sentences_train": len(bank.train), "sentences_test": len(bank.test),
                   "voices_train": len(voices_for("train")), "voices_test": len(voices_for("test"))},
        "build_seconds_this_run": round(time.monotonic() - started, 1),
        "versions": _versions(),
    }
    (config.out / "recipe.json").write_text(json.dumps(summary, indent=2) + "\n")
    log(f"done: {summary['counts']['clips']} clips ({summary['counts']['train']} train, "
        f"{summary['counts']['test']} test); {failed} skipped this run")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model_server.train.corpus", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="corpus folder (created; a rerun resumes)")
    parser.add_argument("--clips", type=int, default=CorpusConfig.clips, help="clip indices 0..N-1 to build")
    parser.add_argument("--seed", type=int, default=CorpusConfig.seed)
    parser.add_argument("--workers", type=int, default=CorpusConfig.workers, help="processes (1: in this one)")
    parser.add_argument("--test-fraction", type=float, default=CorpusConfig.test_fraction,
                        help="share of clips (and of sentences) held out for testing")
    args = parser.parse_args(argv)
    config = CorpusConfig(out=args.out, clips=args.clips, seed=args.seed, workers=args.workers,
                          test_fraction=args.test_fraction)
    build_corpus(config, log=lambda line: print(line, flush=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
