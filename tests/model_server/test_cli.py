"""The CLI exactly as batch users and later checks call it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from model_server.curves import load_curves

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "model_server", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def test_instruct_prints_instruction_segments_and_transcript(front_center_wav):
    done = run_cli("instruct", str(front_center_wav), "--transcript", "front center")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert "person speaks with" in result["instruction"]
    assert result["transcript"].lower() == "front center"
    assert all({"start", "end", "instruction"} <= s.keys() for s in result["segments"])


def test_animate_writes_a_valid_curves_file_with_the_given_instruction(front_center_wav, tmp_path):
    out = tmp_path / "curves.json"
    instruction = "A sad person speaks with inner brow quite raised and lip corners pulled down."
    done = run_cli("animate", str(front_center_wav), "--transcript", "front center",
                   "--instruction", instruction, "--seed", "7", "--fps", "24", "-o", str(out))
    assert done.returncode == 0, done.stderr
    curves = load_curves(out)
    assert curves["instruction"] == instruction and curves["fps"] == 24.0
    assert "%" in done.stderr  # progress went to stderr


def test_bad_audio_exits_2_with_a_message(tmp_path):
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF1234WAVEjunk")
    done = run_cli("animate", str(broken), "-o", str(tmp_path / "x.json"))
    assert done.returncode == 2
    assert done.stderr.startswith("error:") and "broken.wav" in done.stderr
    assert not (tmp_path / "x.json").exists()
