"""Memory of a long-running model process under heavy use, printed as a table.

    python bench/server_memory.py [--rounds 4] [--seconds 60]

Each round sends what a day of animation sends: a long clip with its text, the same clip without
(recognition), ten short lines, three takes of the long clip and one instruct. The table shows the
process's resident memory when ready, after each round, its peak, and where it settles after
a minute idle.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from clips import repeated_clip  # noqa: E402

NEUTRAL = "A neutral person speaks with relaxed face."


def resident_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of `pid` in MiB, from /proc (Linux)."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def request(url: str, token: str, path: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as response:
        return json.loads(response.read())


def run_job(url: str, token: str, path: str, body: dict) -> None:
    """Submit a job and wait until it is done, polling often enough for run_bench's cold-start row."""
    job_id = request(url, token, path, body)["job_id"]
    while True:
        job = request(url, token, f"/v1/jobs/{job_id}")
        if job["state"] in ("succeeded", "failed", "cancelled"):
            if job["state"] != "succeeded":
                raise SystemExit(f"{path} failed: {job['error']}")
            return
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--idle", type=float, default=60.0, help="seconds idle before the last reading")
    args = parser.parse_args()

    from tests.model_server.api.test_server import start_server

    folder = Path(tempfile.mkdtemp(prefix="avi-memory-"))
    clip, text = repeated_clip(args.seconds, folder)
    short, short_text = repeated_clip(3, folder)
    proc, url, token = start_server()
    rows = [("ready", *resident_mb(proc.pid))]
    try:
        for index in range(1, args.rounds + 1):
            run_job(url, token, "/v1/animate", {"audio_path": str(clip), "transcript": text})
            run_job(url, token, "/v1/animate", {"audio_path": str(clip), "instruction": NEUTRAL})
            for seed in range(10):
                run_job(url, token, "/v1/animate", {"audio_path": str(short), "transcript": short_text, "seed": seed})
            run_job(url, token, "/v1/animate", {"audio_path": str(clip), "transcript": text, "samples": 3,
                                                "synthesis": "learned"})
            run_job(url, token, "/v1/instruct", {"audio_path": str(clip), "transcript": text})
            rows.append((f"after round {index}", *resident_mb(proc.pid)))
        time.sleep(args.idle)
        rows.append((f"idle {args.idle:g} s later", *resident_mb(proc.pid)))
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)

    print(f"model process memory, {args.seconds:g} s clip, {platform.machine()} {platform.system()}")
    print(f"{'moment':<24} {'resident MiB':>13} {'peak MiB':>9}")
    for moment, current, peak in rows:
        print(f"{moment:<24} {current:>13.0f} {peak:>9.0f}")


if __name__ == "__main__":
    main()
