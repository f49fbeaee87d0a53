"""Does the fit check (audio/transcript_fit.py) tell a recording's own text from another one's?

    python -m model_server.eval.evaluate_transcript_fit [--source asterisk ...] [--limit N] [--cache data/real_speech]

Every real recording (real_recordings.py) is force-aligned twice, fit check off: with its own text and
with the text of the recording half the list away (another line's words, as a mislabelled file or a
pasted wrong line gives them). Prints, for each, how many alignments failed outright, the spread of the
speech coverage, and how many fall below MIN_COVERAGE: for the own text those are the lines the check
would wrongly send to the recogniser, for the other text the wrong lines it catches.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from ..audio.alignment import AlignmentFailed, align_phones
from ..audio.loading import load_audio
from ..audio.transcript_fit import MIN_COVERAGE, speech_coverage
from ..audio.types import Audio
from ..errors import AudioError
from .evaluate_real_speech import DEFAULT_CACHE
from .real_recordings import SOURCES, Recording, real_recordings


def coverage_of(audio: Audio, text: str) -> float | None:
    """The speech coverage of `text` force-aligned to the audio; None when it does not align at all."""
    try:
        return speech_coverage(audio, align_phones(audio, text, recognize=False, check_fit=False).words)
    except AlignmentFailed:
        return None


def summary(label: str, coverages: list[float | None]) -> str:
    aligned = np.array([c for c in coverages if c is not None])
    below = int((aligned < MIN_COVERAGE).sum())
    spread = (f"coverage min {aligned.min():.2f}, 5th pct {np.percentile(aligned, 5):.2f}, "
              f"median {np.median(aligned):.2f}") if len(aligned) else "no alignment"
    return (f"{label:34s} {len(coverages):4d} lines, {len(coverages) - len(aligned):3d} not aligned, "
            f"{spread}; below {MIN_COVERAGE:.2f}: {below}")


def evaluate(recordings: list[Recording], out=None) -> dict[str, list]:
    out = out or sys.stdout
    half = len(recordings) // 2
    own, other, other_same_length = [], [], []
    for index, recording in enumerate(recordings):
        wrong = recordings[(index + half) % len(recordings)].transcript
        audio = load_audio(recording.path)
        own.append(coverage_of(audio, recording.transcript))
        other.append(coverage_of(audio, wrong))
        if len(wrong.split()) == len(recording.transcript.split()):
            other_same_length.append(other[-1])
    print(summary("own text", own), file=out)
    print(summary("another line's text", other), file=out)
    print(summary("  of which as many words", other_same_length), file=out)
    used = [c for c in other if c is not None]
    print(f"another line's text animating the line: {len(used)} of {len(other)} without the check, "
          f"{sum(c >= MIN_COVERAGE for c in used)} with it; own text refused by it: "
          f"{sum(c is not None and c < MIN_COVERAGE for c in own)} of {len(own)}", file=out)
    for recording, coverage in zip(recordings, own):
        if coverage is not None and coverage < MIN_COVERAGE:
            print(f"  own text refused: {recording.key} ({coverage:.2f}, {recording.transcript!r})", file=out)
    return {"own": own, "other": other}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model_server.eval.evaluate_transcript_fit",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--source", action="append", dest="sources", choices=SOURCES,
                        help=f"recordings to use (repeatable; default all: {', '.join(SOURCES)})")
    parser.add_argument("--limit", type=int, help="at most the first N recordings")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where decoded recordings are kept")
    args = parser.parse_args(argv)
    recordings, missing = real_recordings(args.cache, tuple(args.sources or SOURCES))
    for note in missing:
        print(note, file=sys.stderr)
    recordings = recordings[: args.limit] if args.limit else recordings
    if len(recordings) < 2:
        print("error: fewer than two recordings found", file=sys.stderr)
        return 2
    try:
        evaluate(recordings)
    except AudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
