"""Forced alignment of long lines: the whole clip's phone pass against the pieces (prints a table).

    python bench/alignment_scaling.py [--seconds 60 600] [--clips sentences repeated]

For each clip, forced alignment runs twice, each in a process of its own so that its peak memory is its
own: with the phone pass over the whole clip, and in pieces cut at the word pass's pauses (as
audio/alignment.py does past PIECES_AFTER_S; here at every length). Prints seconds, seconds per second of audio, peak memory, and how
far the two disagree: phones with another label, the share of phone starts (and of /p b m/ starts)
within one 25 fps frame, the largest start difference. "sentences" are Asterisk's real prompts with
pauses between them, "repeated" the demo sentence repeated with sox.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "bench")]

FRAME_S = 1 / 25


def align_once(clip: Path, transcript: Path, pieces_after: float, out: Path) -> None:
    """One alignment in this process: its phones, seconds and peak memory as JSON in `out`."""
    from model_server.audio import alignment
    from model_server.audio.loading import load_audio

    audio = load_audio(clip)
    alignment.PIECES_AFTER_S = pieces_after
    started = time.perf_counter()
    found = alignment.align_phones(audio, transcript.read_text())
    out.write_text(json.dumps({
        "seconds": time.perf_counter() - started, "method": found.method, "duration": audio.duration,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "phones": [(p.phone, p.start) for p in found.phones if p.phone != "SIL"]}))


def aligned_apart(clip: Path, transcript: Path, pieces_after: float, folder: Path) -> dict:
    out = folder / "aligned.json"
    subprocess.run([sys.executable, __file__, "--one", str(clip), str(transcript), str(pieces_after), str(out)],
                   check=True)
    return json.loads(out.read_text())


def main() -> None:
    if len(sys.argv) == 6 and sys.argv[1] == "--one":
        align_once(Path(sys.argv[2]), Path(sys.argv[3]), float(sys.argv[4]), Path(sys.argv[5]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, nargs="+", default=[60.0, 600.0])
    parser.add_argument("--clips", nargs="+", default=["sentences", "repeated"], choices=["sentences", "repeated"])
    args = parser.parse_args()
    from clips import make_clip

    print("| clip | seconds | whole s | s/s | MiB | pieces s | s/s | MiB | other labels | starts within a frame "
          "| /p b m/ within a frame | max start diff s |\n|---|" + "---:|" * 11)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for kind in args.clips:
            for seconds in args.seconds:
                clip, text = make_clip(kind, seconds, folder)
                transcript = folder / "transcript.txt"
                transcript.write_text(text)
                whole = aligned_apart(clip, transcript, float("inf"), folder)
                pieces = aligned_apart(clip, transcript, 0.0, folder)  # pieces whatever the length
                a, b = whole["phones"], pieces["phones"]
                row = [kind, f"{whole['duration']:.1f}"] + [
                    cell for found in (whole, pieces) for cell in
                    (f"{found['seconds']:.1f}", f"{found['seconds'] / found['duration']:.3f}", f"{found['peak_mib']:.0f}")]
                if len(a) == len(b):
                    starts = np.abs(np.array([x[1] for x in a]) - np.array([y[1] for y in b]))
                    lips = np.array([x[0] in ("P", "B", "M") for x in a])
                    row += [str(sum(x[0] != y[0] for x, y in zip(a, b))), f"{(starts <= FRAME_S).mean():.3f}",
                            f"{(starts[lips] <= FRAME_S).mean():.3f} of {lips.sum()}", f"{starts.max():.3f}"]
                else:
                    row += [f"{len(a)} against {len(b)} phones", "", "", ""]
                print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
