"""Forced alignment of long lines, the whole clip's phone pass against the pieces on both cores (prints a table).

    python bench/alignment_scaling.py [--seconds 60 600] [--clips sentences repeated]

For each clip length: the seconds forced alignment takes with the phone pass over the whole clip (one core)
and in pieces cut at the word pass's pauses (audio/alignment.py: PIECES_AFTER_S, two worker processes),
seconds per second of audio, and how far the two disagree (phones with another label; the largest
difference of a phone's start). "sentences" are Asterisk's real prompts with pauses between them,
"repeated" the demo sentence repeated with sox.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from clips import repeated_clip, sentences_clip  # noqa: E402


def timed(audio, transcript: str, pieces_after: float):
    from model_server.audio import alignment

    alignment.PIECES_AFTER_S = pieces_after
    started = time.perf_counter()
    found = alignment.align_phones(audio, transcript)
    return time.perf_counter() - started, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, nargs="+", default=[60.0, 600.0])
    parser.add_argument("--clips", nargs="+", default=["sentences", "repeated"], choices=["sentences", "repeated"])
    args = parser.parse_args()
    from model_server.audio.loading import load_audio

    print(f"{'clip':10s} {'seconds':>8s} {'whole (s)':>10s} {'s/s':>6s} {'pieces (s)':>11s} {'s/s':>6s} "
          f"{'other labels':>13s} {'max start diff (s)':>19s}")
    with tempfile.TemporaryDirectory() as folder:
        for kind in args.clips:
            for seconds in args.seconds:
                make = sentences_clip if kind == "sentences" else repeated_clip
                clip, transcript = make(seconds, Path(folder))
                audio = load_audio(clip)
                whole_s, whole = timed(audio, transcript, float("inf"))
                pieces_s, pieces = timed(audio, transcript, 60.0)
                a, b = ([p for p in found.phones if p.phone != "SIL"] for found in (whole, pieces))
                same = len(a) == len(b)
                labels = sum(x.phone != y.phone for x, y in zip(a, b)) if same else "differ"
                shift = np.abs(np.array([x.start for x in a]) - np.array([y.start for y in b])).max() if same else \
                    float("nan")
                print(f"{kind:10s} {audio.duration:8.1f} {whole_s:10.1f} {whole_s / audio.duration:6.3f} "
                      f"{pieces_s:11.1f} {pieces_s / audio.duration:6.3f} {labels!s:>13s} {shift:19.3f}", flush=True)


if __name__ == "__main__":
    main()
