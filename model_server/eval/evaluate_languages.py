"""Lip sync in other languages, on real recordings: Asterisk's prompts in fr, es, it, ru (and en).

    python -m model_server.eval.evaluate_languages [--languages en fr es it ru] [--limit 20]
        [--cache data/real_speech] [--json PATH]

Each prompt (at least MIN_WORDS words) goes through every path, and the baseline synthesis animates
the phones each path found (neutral instruction, 25 fps). Columns:

- heard: the share of the path's /p b m/ that pocketsphinx's phone loop (its English phone models, no
  words, no text: independent of every path) also hears as a bilabial within 40 ms. The row "espeak
  dtw, 0.3 s late" is the same phones moved 0.3 s: what a misplaced bilabial scores;
- closed: the lips reach CLOSURE_SHARE of the open-vowel opening on a frame of each /p b m/ the path
  placed (the synthesis closes where the timing says);
- English only: closed and placed at the true text's phones as pocketsphinx force-aligns them (the
  English product path, the reference there);
- rounding (pucker + funnel on rounded phones less on spread vowels) and open-vowel opening;
- the no-text path: the language Whisper told and the word error rate of its words.
English leaves out its first TUNED_ENGLISH_PROMPTS prompts, on which the closure lead was chosen.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..audio.alignment import AlignmentFailed, align_phones, new_decoder, pcm16, phone_loop
from ..audio.front_end import SpeechFrontEnd
from ..audio.loading import load_audio
from ..audio.multilingual import align_other_language, spelling
from ..audio.recognition import load_multilingual_recognizer
from ..audio.types import Phone
from ..errors import AudioError, InputError
from ..synthesis.baseline import BaselineArticulator
from .evaluate_real_speech import score_motion
from .evaluate_synthesis import NEUTRAL_INSTRUCTION
from .metrics import BILABIALS, as_phones, without_blinks, word_errors
from .real_recordings import ASTERISK_VOICES, asterisk_recordings

FPS = 25.0
MIN_WORDS = 3
TUNED_ENGLISH_PROMPTS = 45  # the first English prompts (of MIN_WORDS words or more, by key) tuned the timing
LANGUAGES = ("en", *ASTERISK_VOICES)
PATHS = ("pocketsphinx, text", "espeak dtw, text", "espeak words, text", "whisper base, no text")
LATE, LATE_SECONDS = "espeak dtw, 0.3 s late", 0.3  # what a misplaced bilabial scores under "heard"
HEARD_WITHIN = 0.04  # seconds either side of a phone-loop bilabial


@dataclass
class Pool:
    bilabials: int = 0
    heard: int = 0
    closed: int = 0
    reference_bilabials: int = 0
    reference_closed: int = 0
    reference_placed: int = 0
    rounding: list[float] = field(default_factory=list)
    opening: list[float] = field(default_factory=list)
    clips: int = 0

    def add(self, own: dict | None, heard: tuple[int, int], reference: dict | None = None, placed: int = 0) -> None:
        self.heard += heard[0]
        self.bilabials += heard[1]
        self.clips += 1
        if own is not None:
            self.closed += own["closed"]
            if own["rounded"] and own["spread"]:
                self.rounding.append(float(np.mean(own["rounded"]) - np.mean(own["spread"])))
            self.opening += own["opening"]
        if reference is not None:
            self.reference_closed += reference["closed"]
            self.reference_bilabials += reference["bilabials"]
            self.reference_placed += placed

    def row(self) -> dict:
        share = lambda a, b: a / b if b else float("nan")  # noqa: E731
        return {"clips": self.clips, "bilabials": self.bilabials, "heard": share(self.heard, self.bilabials),
                "closed": share(self.closed, self.bilabials) if self.opening else float("nan"),
                "closed_reference": share(self.reference_closed, self.reference_bilabials),
                "placed_reference": share(self.reference_placed, self.reference_bilabials),
                "rounding": float(np.mean(self.rounding)) if self.rounding else float("nan"),
                "opening": float(np.mean(self.opening)) if self.opening else float("nan")}


def bilabials_placed(reference, path, tolerance: float = 0.0) -> tuple[int, int]:
    """(placed, total): reference /p b m/ whose middle lies inside one of the path's bilabials (± tolerance)."""
    spans = [(p.start - tolerance, p.end + tolerance) for p in as_phones(path) if p.phone in BILABIALS]
    middles = [(p.start + p.end) / 2 for p in as_phones(reference) if p.phone in BILABIALS]
    return sum(any(a <= m <= b for a, b in spans) for m in middles), len(middles)


def alignments(audio, text: str, language: str, recognizer) -> dict:
    found = {"espeak dtw, text": align_other_language(audio, text, language, timing="dtw"),
             "espeak words, text": align_other_language(audio, text, language, recognizer=recognizer, timing="words"),
             "whisper base, no text": align_other_language(audio, None, None, recognizer=recognizer)}
    if language == "en":
        found["pocketsphinx, text"] = align_phones(audio, text, recognize=False, check_fit=False)
    return found


def evaluate(languages, limit: int, cache: Path) -> tuple[dict, list[str]]:
    recognizer = load_multilingual_recognizer()
    if recognizer is None:
        raise SystemExit("the multilingual Whisper is not installed: bash scripts/setup.sh")
    front_end, synthesizer = SpeechFrontEnd(), BaselineArticulator()
    results, notes = {}, []
    for language in languages:
        recordings = [r for r in asterisk_recordings(cache, language=language) if len(r.transcript.split()) >= MIN_WORDS]
        if language == "en":
            recordings = recordings[TUNED_ENGLISH_PROMPTS:]  # multilingual.CLOSURE_LEAD was chosen on these
        if not recordings:
            notes.append(f"{language}: Asterisk's prompts are not installed (asterisk-core-sounds-{language}-g722)")
            continue
        pools = {path: Pool() for path in (*PATHS, LATE)}
        detected, errors, words = 0, 0, 0
        for recording in recordings[:limit]:
            try:
                audio = load_audio(recording.path)
                found = alignments(audio, recording.transcript, language, recognizer)
            except (AudioError, InputError, AlignmentFailed) as exc:
                notes.append(f"{recording.key}: skipped ({exc})")
                continue
            loop = phone_loop(new_decoder(), pcm16(audio)).phones
            heard = found["whisper base, no text"]
            detected += heard.language == language
            truth = [spelling(w) for w in recording.transcript.split()]
            errors += word_errors(truth, [spelling(w) for w in heard.transcript.split()])
            words += len(truth)
            reference = found.get("pocketsphinx, text")
            for path, alignment in found.items():
                analysis = front_end.with_alignment(audio, alignment, FPS)
                segments = [{"start": 0.0, "end": audio.duration, "instruction": NEUTRAL_INSTRUCTION}]
                motion = without_blinks(synthesizer.synthesize(analysis, segments, seed=0, fps=FPS).arkit)
                on_reference = score_motion(motion, reference.phones, FPS) if reference else None
                placed = bilabials_placed(reference.phones, alignment.phones)[0] if reference else 0
                pools[path].add(score_motion(motion, alignment.phones, FPS),
                                bilabials_placed(alignment.phones, loop, HEARD_WITHIN), on_reference, placed)
            late = [Phone(p.phone, p.start + LATE_SECONDS, p.end + LATE_SECONDS)
                    for p in found["espeak dtw, text"].phones]
            pools[LATE].add(None, bilabials_placed(late, loop, HEARD_WITHIN))
        count = pools["espeak dtw, text"].clips
        results[language] = {"paths": {path: pool.row() for path, pool in pools.items() if pool.clips},
                             "language_told": detected / count if count else float("nan"),
                             "word_error_rate": errors / words if words else float("nan"), "clips": count}
    return results, notes


def print_tables(results: dict) -> None:
    cell = lambda x: "–" if x != x else f"{x:.3f}"  # noqa: E731 - NaN: not measured for this row
    print("| language | path | clips | /p b m/ | heard | closed | closed (en reference) | placed (en reference) "
          "| rounding | open-vowel opening |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for language, result in results.items():
        for path, row in result["paths"].items():
            print(f"| {language} | {path} | {row['clips']} | {row['bilabials']} | {cell(row['heard'])} | "
                  f"{cell(row['closed'])} | {cell(row['closed_reference'])} | {cell(row['placed_reference'])} | "
                  f"{cell(row['rounding'])} | {cell(row['opening'])} |")
    print("\n| language | clips | language told (no text) | word error rate (no text) |\n|---|---:|---:|---:|")
    for language, result in results.items():
        print(f"| {language} | {result['clips']} | {cell(result['language_told'])} | "
              f"{cell(result['word_error_rate'])} |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--languages", nargs="+", default=list(LANGUAGES), choices=LANGUAGES)
    parser.add_argument("--limit", type=int, default=20, help="prompts per language (default 20)")
    parser.add_argument("--cache", type=Path, default=Path("data") / "real_speech")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    results, notes = evaluate(args.languages, args.limit, args.cache)
    print_tables(results)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
