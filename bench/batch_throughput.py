"""Batch throughput: lines per minute for short real lines, one worker process against the pool.

    python bench/batch_throughput.py [--lines 100]

The lines are Asterisk's English prompts of 1-4 s (one professional voice) with their transcripts;
the agent writes each line's instruction (the default configuration). Each run starts from an empty
output folder, so model loading is counted once per worker, as in a real overnight batch. Prints a
table (seconds and lines per minute).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SHORT_SECONDS = (1.0, 4.0)


def short_lines(count: int, cache: Path = REPO / "data" / "real_speech") -> list[dict]:
    """`count` manifest lines cycling through the short prompts (each line its own id and seed)."""
    import soundfile

    from model_server.eval.real_recordings import asterisk_recordings

    prompts = [r for r in asterisk_recordings(cache)
               if SHORT_SECONDS[0] <= soundfile.info(str(r.path)).duration <= SHORT_SECONDS[1]]
    if not prompts:
        raise SystemExit("Asterisk's English prompts are missing: bash scripts/setup.sh")
    return [{"id": f"line{k:03d}", "audio": str(prompts[k % len(prompts)].path),
             "transcript": prompts[k % len(prompts)].transcript, "seed": k} for k in range(count)]


def timed_batch(manifest: Path, workers: int) -> float:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "model_server", "batch", str(manifest), "-o", out,
                        "--workers", str(workers), "--quiet"], cwd=REPO, check=True, capture_output=True)
        seconds = time.perf_counter() - start
        counts = json.loads((Path(out) / "summary.json").read_text())["counts"]
    if counts["ok"] != int(manifest.read_text().count("\n")):
        raise SystemExit(f"not every line was animated: {counts}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=100)
    args = parser.parse_args()
    from model_server.batch.local_pool import pool_size

    lines = short_lines(args.lines)
    pool, threads = pool_size(args.lines)
    with tempfile.TemporaryDirectory() as folder:
        manifest = Path(folder) / "lines.jsonl"
        manifest.write_text("".join(json.dumps(line) + "\n" for line in lines))
        rows = [(f"one worker process ({os.cpu_count()} threads)", timed_batch(manifest, 1)),
                (f"pool: {pool} worker processes, {threads} thread{'s' * (threads > 1)} each", timed_batch(manifest, pool))]
    print(f"{args.lines} lines of 1-4 s (Asterisk prompts, transcripts given, the agent writing), "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, models loaded once per worker\n")
    print("| batch | seconds | lines per minute |\n|---|---:|---:|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.1f} | {args.lines / seconds * 60:.1f} |")


if __name__ == "__main__":
    main()
