"""`batch --ray` on a real local Ray cluster (two worker CPUs), one worker killed mid-line."""

from __future__ import annotations

import csv
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from model_server.curves import load_curves

REPO = Path(__file__).resolve().parents[3]
RAY = Path(sys.executable).with_name("ray")
ANGRY = "A fairly angry person speaks with brow quite lowered."


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def ray_cluster():
    """(address, environment with its token): a head node on this machine with two CPUs, so two
    tasks, and two worker processes, at a time."""
    if not RAY.is_file():
        pytest.fail("Ray is missing: pip install -r requirements-dev.txt (scripts/setup.sh does this)")
    port = free_port()
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # Ray's socket paths must stay short
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0", RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32))
    subprocess.run([str(RAY), "start", "--head", f"--port={port}", "--num-cpus=2", "--include-dashboard=false",
                    f"--temp-dir={temp}", "--disable-usage-stats"], check=True, capture_output=True, env=env,
                   timeout=180)
    try:
        yield f"127.0.0.1:{port}", env
    finally:
        subprocess.run([str(RAY), "stop", "--force"], capture_output=True, env=env, timeout=120)
        shutil.rmtree(temp, ignore_errors=True)


def test_lines_run_as_ray_tasks_and_a_killed_worker_s_line_is_retried(ray_cluster, asterisk_recording,
                                                                       front_center_wav, tmp_path):
    password, password_text = asterisk_recording("agent-pass")
    shutil.copy(password, tmp_path / "password.wav")  # named relative to the manifest: Ray's workers run elsewhere
    rows = [{"id": "password", "audio": "password.wav", "transcript": password_text, "instruction": ANGRY},
            {"id": "heard", "audio": str(front_center_wav), "instruction": ANGRY},
            {"id": "again", "audio": "password.wav", "transcript": password_text, "instruction": ANGRY, "seed": 2},
            {"id": "broken", "audio": "missing.wav"}]
    manifest = tmp_path / "lines.jsonl"
    manifest.write_text("".join(json.dumps(row) + "\n" for row in rows))
    address, env = ray_cluster
    out = tmp_path / "shared"
    process = subprocess.Popen([sys.executable, "-m", "model_server", "batch", "lines.jsonl", "-o", "shared",
                                "--ray", address, "--live-link"], cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=dict(env, PYTHONPATH=str(REPO)))
    attempts = out / ".avi-batch" / "password.attempts"
    deadline = time.monotonic() + 180
    while not attempts.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
    assert attempts.exists(), process.communicate()[1][-3000:]
    time.sleep(1.0)  # the worker is loading its models for the line
    killed = int(attempts.read_text().split()[0])
    os.kill(killed, signal.SIGKILL)
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 1, stderr[-3000:]  # the missing file is refused
    assert "3 ok, 1 refused, 0 failed" in stdout
    lines = {line["id"]: line for line in json.loads((out / "summary.json").read_text())["lines"]}
    assert lines["password"]["status"] == "ok" and lines["password"]["attempts"] == 2
    assert str(killed) in attempts.read_text().split()[:1] and len(attempts.read_text().split()) == 2
    assert "no such audio file" in lines["broken"]["reason"]
    for name in ("password", "heard", "again"):
        assert load_curves(out / f"{name}.json")["instruction"] == ANGRY
        assert (out / f"{name}.live_link.csv").is_file()
    workers = {int(pid) for name in ("password", "heard", "again")
               for pid in (out / ".avi-batch" / f"{name}.attempts").read_text().split()}
    assert len(workers) >= 2, "the lines ran in more than one worker process"
    rerun = subprocess.run([sys.executable, "-m", "model_server", "batch", str(manifest), "-o", str(out),
                            "--ray", address, "--live-link"], cwd=REPO, capture_output=True, text=True, timeout=300,
                           env=env)
    assert "3 done before" in rerun.stderr, rerun.stderr[-2000:]
    assert list(csv.DictReader(open(out / "summary.csv")))[0]["resumed"] == "yes"
