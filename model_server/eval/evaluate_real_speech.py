"""Lip sync on real recordings, with the dialogue text and without it: the figures the product is tuned by.

    python -m model_server.eval.evaluate_real_speech [--source asterisk ...] [--speech-dir DIR ...]
        [--fps 24 25 30] [--limit N] [--cache data/real_speech] [--weights DIR] [--json PATH] [--card PATH]

Recordings of people from Debian packages (real_recordings.py). Each clip is heard twice: with its
transcript (forced alignment) and without it (the recogniser, then alignment of what it heard). Both
synthesizers animate it under a neutral instruction at every frame rate (take 1, and the learned
model's take 2, a diffusion-prior draw), and the motion is scored against the phone timing of the
*true* transcript, force-aligned, never against the path being scored:

- /p b m/ closure: the lips reach CLOSURE_SHARE of the clip's open-vowel opening on a frame of the phone
  (all, and those of at least 30 ms);
- /f v/: the lower lip tucked to the upper teeth (mouthRollLower) with the lips nearly shut;
- rounding: peak pucker + funnel on /uw ow w/ minus the mean on spread vowels /iy ih ey eh/;
- open-vowel opening: each open vowel's widest lip aperture;
- jitter: mean |second difference| of the lip aperture over speech, per s²;
- recognition: word error rate of the recognised words, and the share of the true text's phones
  (and of its /p b m/) that the recognition path puts at the right time.

Prints pooled tables, the checks the product must pass, and every clip where lips stay open;
--json keeps every clip's figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..audio.alignment import PACKAGED_RECOGNIZER, AlignmentFailed, align_phones
from ..audio.front_end import SpeechFrontEnd
from ..audio.loading import load_audio
from ..audio.words import spoken_words
from ..errors import AudioError, InputError
from ..synthesis.registry import DEFAULT_SYNTHESIS, LEARNED_WEIGHTS_DIR
from ..train.model_card import write_section
from .evaluate_synthesis import NEUTRAL_INSTRUCTION, Candidate, Table, load_candidates
from .metrics import (BILABIALS, bilabial_closure, labiodental_contact, lip_jitter, open_vowel_opening,
                      phones_recovered, rounding_by_phone, without_blinks, word_errors)
from .real_recordings import SOURCES, Recording, folder_recordings, real_recordings

FRAME_RATES = (24.0, 25.0, 30.0)
MIN_CLOSURE_SECONDS = 0.03  # /p b m/ this long must close on a frame at any scene rate
PATHS = ("with text", "without text")
TAKE_2 = "take 2"
CLOSURE_WITH_TEXT_TARGET = 0.98
CLOSURE_GAP_TARGET = 0.03  # closure without the text within this of closure with it
DEFAULT_CACHE = Path("data") / "real_speech"
CARD_SECTION = "real-speech"


@dataclass
class Pool:
    """Everything one (path, fps, model) row adds up over clips."""

    closed: int = 0
    bilabials: int = 0
    closed_long: int = 0
    bilabials_long: int = 0
    tucked: int = 0
    labiodentals: int = 0
    rounded: list[float] = field(default_factory=list)
    spread: list[float] = field(default_factory=list)
    opening: list[float] = field(default_factory=list)
    jitter: list[float] = field(default_factory=list)

    def add(self, scores: dict) -> None:
        for key in ("closed", "bilabials", "closed_long", "bilabials_long", "tucked", "labiodentals"):
            setattr(self, key, getattr(self, key) + scores[key])
        for key in ("rounded", "spread", "opening"):
            getattr(self, key).extend(scores[key])
        if np.isfinite(scores["jitter"]):
            self.jitter.append(scores["jitter"])

    def row(self) -> dict:
        return {"/p b m/ closure": _ratio(self.closed, self.bilabials), "/p b m/": self.bilabials,
                "closure ≥ 30 ms": _ratio(self.closed_long, self.bilabials_long),
                "/f v/ tucked": _ratio(self.tucked, self.labiodentals), "/f v/": self.labiodentals,
                "rounding (round − spread)": _mean(self.rounded) - _mean(self.spread),
                "open-vowel opening": _mean(self.opening), "jitter (1/s²)": _mean(self.jitter)}


@dataclass
class Recognition:
    clips: int = 0
    words: int = 0
    word_errors: int = 0
    phones_found: int = 0
    phones: int = 0
    bilabials_found: int = 0
    bilabials: int = 0
    seconds: float = 0.0
    audio_seconds: float = 0.0
    methods: dict[str, int] = field(default_factory=dict)


@dataclass
class RealSpeechConfig:
    sources: tuple[str, ...] = SOURCES
    speech_dirs: list[Path] = field(default_factory=list)
    frame_rates: tuple[float, ...] = FRAME_RATES
    limit: int | None = None  # recordings per source
    cache: Path = DEFAULT_CACHE
    weights: Path | None = None
    json_path: Path | None = None
    card: Path | None = None
    recognizer: str = "whisper"  # or "pocketsphinx": the fallback the front-end uses without Whisper


def score_motion(motion: np.ndarray, reference, fps: float) -> dict:
    """One clip's lip-sync figures against the true text's phone timing."""
    closed, total = bilabial_closure(motion, reference, fps)
    closed_long, total_long = bilabial_closure(motion, reference, fps, MIN_CLOSURE_SECONDS)
    tucked, labiodentals = labiodental_contact(motion, reference, fps)
    rounded, spread = rounding_by_phone(motion, reference, fps)
    return {"closed": closed, "bilabials": total, "closed_long": closed_long, "bilabials_long": total_long,
            "tucked": tucked, "labiodentals": labiodentals, "rounded": rounded, "spread": spread,
            "opening": open_vowel_opening(motion, reference, fps), "jitter": lip_jitter(motion, reference, fps)}


def row_names(candidates: list[Candidate]) -> list[tuple[str, Candidate, bool]]:
    """(row, synthesizer, sampled): each model's take 1, and the learned model's take 2."""
    rows = [(c.name, c, False) for c in candidates]
    return rows + [(f"{c.name}, {TAKE_2}", c, True) for c in candidates if c.learned]


def evaluate_recording(recording: Recording, rows, front_end: SpeechFrontEnd, frame_rates, recognition: Recognition,
                       recognizer=PACKAGED_RECOGNIZER) -> dict:
    """Every figure of one clip; raises AudioError or AlignmentFailed for a clip that cannot be judged.
    `recognizer` None hears the clip with pocketsphinx's own recognition (the fallback chain)."""
    audio = load_audio(recording.path)
    reference = align_phones(audio, recording.transcript, recognize=False, check_fit=False)
    if reference.method != "forced":
        raise AlignmentFailed(f"the true text aligned only word by word ({reference.method})")
    start = time.perf_counter()
    heard = align_phones(audio, None, recognizer=recognizer)
    recognition.seconds += time.perf_counter() - start
    recognition.audio_seconds += audio.duration
    truth, recognised = spoken_words(recording.transcript), spoken_words(heard.transcript)
    errors = word_errors(truth, recognised)
    found, phones = phones_recovered(reference.phones, heard.phones)
    lips = [p for p in reference.phones if p.phone in BILABIALS]
    lips_found, _ = phones_recovered(lips, heard.phones)
    recognition.clips += 1
    recognition.words += len(truth)
    recognition.word_errors += errors
    recognition.phones_found += found
    recognition.phones += phones
    recognition.bilabials_found += lips_found
    recognition.bilabials += len(lips)
    recognition.methods[heard.method] = recognition.methods.get(heard.method, 0) + 1
    clip = {"key": recording.key, "transcript": recording.transcript, "heard": heard.transcript,
            "heard_method": heard.method, "word_errors": errors, "words": len(truth),
            "phones_found": found, "phones": phones, "duration": audio.duration, "scores": {}}
    for fps in frame_rates:
        for path, alignment in zip(PATHS, (reference, heard)):
            analysis = front_end.with_alignment(audio, alignment, fps)
            for name, candidate, sampled in rows:
                motion = candidate.motion(analysis, NEUTRAL_INSTRUCTION, sampled=sampled, fps=fps)
                clip["scores"][f"{path}|{fps:g}|{name}"] = score_motion(without_blinks(motion), reference.phones, fps)
    return clip


def pooled_tables(clips: list[dict], rows, frame_rates) -> dict[str, Table]:
    tables = {}
    for path in PATHS:
        table = Table(f"Real recordings, {path} ({len(clips)} clips)", list(Pool().row()))
        for fps in frame_rates:
            for name, _, _ in rows:
                pool = Pool()
                for clip in clips:
                    pool.add(clip["scores"][f"{path}|{fps:g}|{name}"])
                table.rows[f"{name}, {fps:g} fps"] = pool.row()
        tables[path] = table
    return tables


def recognition_table(recognition: Recognition) -> Table:
    table = Table(f"Recognition path against the true text ({recognition.clips} clips)",
                  ["word error rate", "words", "phones recovered", "/p b m/ recovered", "× real time", "paths"])
    table.rows["recogniser + alignment"] = {
        "word error rate": _ratio(recognition.word_errors, recognition.words), "words": recognition.words,
        "phones recovered": _ratio(recognition.phones_found, recognition.phones),
        "/p b m/ recovered": _ratio(recognition.bilabials_found, recognition.bilabials),
        "× real time": recognition.seconds / max(recognition.audio_seconds, 1e-9),
        "paths": ", ".join(f"{m} {n}" for m, n in sorted(recognition.methods.items(), key=lambda x: -x[1]))}
    return table


def checks(tables: dict[str, Table], frame_rates) -> list[tuple[str, bool | None, str]]:
    """(what must hold, whether it does, the figures); None where the clips have nothing to judge it by.

    Every model and take: closure with the text, every /p b m/ of 30 ms or more closed, closure without
    the text close to it. The learned model against the baseline: it may be the default only where it
    is not below the baseline on closure, /f v/, open-vowel opening and rounding, nor above it on jitter."""
    out = []
    with_text, without = tables[PATHS[0]].rows, tables[PATHS[1]].rows
    for fps in frame_rates:
        at = f", {fps:g} fps"
        for row in [r for r in with_text if r.endswith(at)]:
            name = row[:-len(at)]
            closure, long_closure = with_text[row]["/p b m/ closure"], with_text[row]["closure ≥ 30 ms"]
            gap = closure - without[row]["/p b m/ closure"]
            out.append((f"{name}{at}: closure with text ≥ {CLOSURE_WITH_TEXT_TARGET}",
                        _holds(closure, closure >= CLOSURE_WITH_TEXT_TARGET), f"{closure:.3f}"))
            out.append((f"{name}{at}: every /p b m/ ≥ 30 ms closes with text", _holds(long_closure, long_closure == 1.0),
                        f"{long_closure:.3f}"))
            out.append((f"{name}{at}: closure without text within {CLOSURE_GAP_TARGET} of with text",
                        _holds(gap, gap <= CLOSURE_GAP_TARGET), f"gap {gap:.3f}"))
        if "learned" + at not in with_text or "baseline" + at not in with_text:
            continue
        for path, rows in zip(PATHS, (with_text, without)):
            for column in ("/p b m/ closure", "/f v/ tucked", "open-vowel opening", "rounding (round − spread)"):
                ours, base = rows["learned" + at][column], rows["baseline" + at][column]
                out.append((f"learned{at}, {path}: {column} ≥ baseline's", _holds(ours - base, ours >= base - 1e-9),
                            f"{ours:.3f} vs {base:.3f}"))
            ours, base = rows["learned" + at]["jitter (1/s²)"], rows["baseline" + at]["jitter (1/s²)"]
            out.append((f"learned{at}, {path}: jitter ≤ baseline's", _holds(ours - base, ours <= base + 1e-9),
                        f"{ours:.3f} vs {base:.3f}"))
    return out


def open_lip_notes(clips: list[dict], rows, frame_rates) -> list[str]:
    notes = []
    for clip in clips:
        for fps in frame_rates:
            for path in PATHS:
                for name, _, _ in rows:
                    s = clip["scores"][f"{path}|{fps:g}|{name}"]
                    if s["closed"] < s["bilabials"]:
                        notes.append(f"{name}, {path}, {fps:g} fps: lips stay open at {s['bilabials'] - s['closed']} of "
                                     f"{s['bilabials']} /p b m/ in {clip['key']} ({clip['transcript']!r}; heard "
                                     f"{clip['heard']!r})")
    return notes


def evaluate(config: RealSpeechConfig, out=None) -> dict:
    out = sys.stdout if out is None else out
    wall = time.perf_counter()
    notes: list[str] = []
    recordings, missing = real_recordings(config.cache, config.sources)
    notes += missing
    for folder in config.speech_dirs:
        recordings += folder_recordings(folder)
    recordings = _limited(recordings, config.limit)
    candidates = load_candidates(config.weights, notes)
    rows = row_names(candidates)
    front_end, recognition = SpeechFrontEnd(), Recognition()
    clips, skipped = [], 0
    for index, recording in enumerate(recordings, start=1):
        try:
            clips.append(evaluate_recording(recording, rows, front_end, config.frame_rates, recognition,
                                            PACKAGED_RECOGNIZER if config.recognizer == "whisper" else None))
        except (AudioError, AlignmentFailed) as exc:
            skipped += 1
            notes.append(f"skipped {recording.key}: {exc}")
        if index % 50 == 0:
            print(f"[{index}/{len(recordings)}] {time.perf_counter() - wall:.0f} s", file=sys.stderr, flush=True)
    if not clips:
        raise InputError("no real recording could be evaluated: " + "; ".join(notes or ["none found"]))
    tables = pooled_tables(clips, rows, config.frame_rates)
    tables["recognition"] = recognition_table(recognition)
    sources = {}
    for clip in clips:
        sources[clip["key"].split("/")[0]] = sources.get(clip["key"].split("/")[0], 0) + 1
    verdicts = checks(tables, config.frame_rates)

    for note in notes + open_lip_notes(clips, rows, config.frame_rates):
        print(f"note: {note}", file=out)
    print(f"\nclips: {len(clips)} ({', '.join(f'{s} {n}' for s, n in sources.items())}); skipped {skipped}; "
          f"{sum(c['duration'] for c in clips) / 60:.1f} min of speech; {time.perf_counter() - wall:.0f} s; "
          f"default synthesis: {DEFAULT_SYNTHESIS}; recogniser: {config.recognizer}", file=out)
    markdown = "\n\n".join(t.markdown() for t in tables.values())
    check_lines = ["### Checks", "", "| what must hold | holds | figures |", "|---|---|---|"]
    check_lines += [f"| {what} | {_verdict(ok)} | {figures} |" for what, ok, figures in verdicts]
    print("\n" + markdown + "\n\n" + "\n".join(check_lines), file=out)
    result = {"clips": clips, "tables": {k: t.as_json() for k, t in tables.items()}, "notes": notes,
              "checks": [{"what": w, "holds": ok, "figures": f} for w, ok, f in verdicts], "sources": sources}
    if config.card is not None:
        command = "python -m model_server.eval.evaluate_real_speech " + " ".join(sys.argv[1:])
        write_section(config.card, CARD_SECTION, "## Real recordings",
                      f"`{command}`\n\nclips: {len(clips)} ({', '.join(f'{s} {n}' for s, n in sources.items())})\n\n"
                      + markdown + "\n\n" + "\n".join(check_lines))
    if config.json_path is not None:
        Path(config.json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(config.json_path).write_text(json.dumps(result, indent=1, ensure_ascii=False, default=_json_default),
                                          encoding="utf-8")
    return result


def _limited(recordings: list[Recording], limit: int | None) -> list[Recording]:
    """At most `limit` recordings per source, spread over the source's list rather than its first ones."""
    if limit is None:
        return recordings
    out = []
    for source in dict.fromkeys(r.source for r in recordings):
        of_source = [r for r in recordings if r.source == source]
        picks = np.unique(np.linspace(0, len(of_source) - 1, min(limit, len(of_source))).round().astype(int))
        out += [of_source[i] for i in picks]
    return out


def _holds(value: float, condition: bool) -> bool | None:
    return bool(condition) if np.isfinite(value) else None


def _verdict(holds: bool | None) -> str:
    return "n/a" if holds is None else "yes" if holds else "NO"


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else float("nan")


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else float("nan")


def _json_default(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    raise TypeError(type(value))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model_server.eval.evaluate_real_speech",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--source", action="append", dest="sources", choices=SOURCES,
                        help=f"recordings to use (repeatable; default all: {', '.join(SOURCES)})")
    parser.add_argument("--speech-dir", type=Path, action="append", dest="speech_dirs", default=[],
                        help="also a folder of your own .wav/.flac files with a .txt transcript beside each")
    parser.add_argument("--fps", type=float, nargs="+", dest="frame_rates", default=list(FRAME_RATES))
    parser.add_argument("--limit", type=int, help="at most N recordings per source (spread over it)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where decoded recordings are kept")
    parser.add_argument("--weights", type=Path, help=f"learned model folder (default {LEARNED_WEIGHTS_DIR})")
    parser.add_argument("--json", type=Path, dest="json_path", help="write every clip's figures here")
    parser.add_argument("--card", type=Path, help="write the tables into this model card")
    parser.add_argument("--recognizer", choices=("whisper", "pocketsphinx"), default="whisper",
                        help="what hears the clips without their text (pocketsphinx: the fallback chain)")
    args = parser.parse_args(argv)
    config = RealSpeechConfig(sources=tuple(args.sources or SOURCES), speech_dirs=args.speech_dirs,
                              frame_rates=tuple(args.frame_rates), limit=args.limit, cache=args.cache,
                              weights=args.weights, json_path=args.json_path, card=args.card,
                              recognizer=args.recognizer)
    try:
        evaluate(config)
    except (InputError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
