"""The model process as a real subprocess over a real socket: auth, jobs, progress, cancel, bad input."""

from __future__ import annotations

import base64
import json
import math
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import soundfile

from model_server.api.serve import READY_PREFIX
from model_server.curves import validate_curves
from model_server.synthesis.registry import DEFAULT_SYNTHESIS

REPO = Path(__file__).resolve().parents[3]


def start_server(*options: str) -> tuple[subprocess.Popen, str, str]:
    """The model process with `options` (serve's flags), and its URL on loopback and token."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "model_server", "serve", "--port", "0", "--exit-on-stdin-eof", *options],
        cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith(READY_PREFIX):
            info = json.loads(line[len(READY_PREFIX):])
            return proc, f"http://127.0.0.1:{info['port']}", info["token"]
        if not line and proc.poll() is not None:
            break
    proc.kill()
    pytest.fail("server did not announce itself")


@pytest.fixture(scope="module")
def server():
    proc, url, token = start_server()
    yield url, token
    proc.stdin.close()
    proc.wait(timeout=20)


def call(url: str, path: str, token: str | None, body: dict | None = None, method: str | None = None):
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def wait_for(url: str, token: str, job_id: str, timeout: float = 120) -> tuple[dict, list[tuple[float, str]]]:
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, job = call(url, f"/v1/jobs/{job_id}", token)
        assert status == 200
        seen.append((job["progress"], job["stage"]))
        if job["state"] in ("succeeded", "failed", "cancelled"):
            return job, seen
        time.sleep(0.05)
    pytest.fail(f"job {job_id} did not finish")


def test_requests_without_the_right_token_are_rejected(server):
    url, token = server
    assert call(url, "/v1/health", None)[0] == 401
    assert call(url, "/v1/health", token + "x")[0] == 401
    assert call(url, "/v1/openapi.json", None)[0] == 401


def test_health_and_openapi_schema(server):
    url, token = server
    status, health = call(url, "/v1/health", token)
    assert status == 200 and health["status"] == "ok"
    assert "synthesis" in health["models"]
    deadline = time.monotonic() + 120  # the process says it is ready first, then loads the agent by itself
    while health["models"]["agent"].get("loaded") is False and time.monotonic() < deadline:
        time.sleep(0.5)
        health = call(url, "/v1/health", token)[1]
    assert health["models"]["agent"]["kind"] == "learned"  # the shipped adapter, unless --agent says otherwise
    assert health["synthesis"] == {"available": ["learned", "baseline"], "default": DEFAULT_SYNTHESIS}
    status, schema = call(url, "/v1/openapi.json", token)
    assert status == 200
    assert {"/v1/animate", "/v1/instruct", "/v1/jobs/{job_id}", "/v1/jobs/{job_id}/cancel"} <= schema["paths"].keys()
    animate = schema["components"]["schemas"]["AnimateRequest"]["properties"]
    assert animate["samples"]["minimum"] == 1 and animate["samples"]["maximum"] == 16
    assert {"guidance", "synthesis"} <= animate.keys()


def test_animate_job_reports_progress_and_returns_curves(server, front_center_wav):
    url, token = server
    status, created = call(url, "/v1/animate", token, {
        "audio_path": str(front_center_wav), "transcript": "front center", "fps": 30.0, "seed": 3})
    assert status == 202
    job, seen = wait_for(url, token, created["job_id"])
    assert job["state"] == "succeeded", job["error"]
    progress = [p for p, _ in seen]
    assert progress == sorted(progress) and progress[-1] == 1.0
    curves = job["result"]
    validate_curves(curves)
    duration = soundfile.info(str(front_center_wav)).duration
    assert curves["num_frames"] == math.ceil(duration * 30.0 - 1e-6)
    assert curves["fps"] == 30.0
    assert [p["phone"] for p in curves["phones"] if p["phone"] != "SIL"][:3] == ["F", "R", "AH"]


def test_animate_only_the_part_of_the_file_a_trimmed_strip_plays(server, front_center_wav):
    url, token = server
    status, created = call(url, "/v1/animate", token, {
        "audio_path": str(front_center_wav), "clip_start": 0.6, "clip_end": 1.2, "fps": 25.0,
        "instruction": "A neutral person speaks with relaxed face."})
    assert status == 202, created
    job, _ = wait_for(url, token, created["job_id"])
    assert job["state"] == "succeeded", job["error"]
    curves = job["result"]
    assert curves["clip"] == {"start": pytest.approx(0.6), "end": pytest.approx(1.2, abs=1e-3)}
    assert curves["num_frames"] == 15  # 0.6 s at 25 fps: frame 0 is 0.6 s into the file
    status, answer = call(url, "/v1/animate", token, {"audio_path": str(front_center_wav), "clip_start": 30.0})
    assert status == 400 and "after the audio ends" in answer["detail"]


def test_animate_with_head_motion_and_a_gaze_target(server, front_center_wav):
    url, token = server
    results = []
    for options in ({"head_motion": 0.0, "gaze": {"direction": [15, 0]}}, {"head_motion": 2.0}):
        status, created = call(url, "/v1/animate", token, {
            "audio_path": str(front_center_wav), "transcript": "front center", "seed": 2, **options})
        assert status == 202, created
        job, _ = wait_for(url, token, created["job_id"])
        assert job["state"] == "succeeded", job["error"]
        results.append(job["result"])
    still, lively = results
    assert all(v == 0 for row in still["head"]["rotation"] for v in row)
    assert max(abs(v) for row in lively["head"]["rotation"] for v in row) > 0.005
    assert sorted(row[0] for row in still["eyes"]["left"])[len(still["eyes"]["left"]) // 2] == \
        pytest.approx(math.radians(15), abs=0.03)


def test_listen_answers_a_listeners_curves_at_once(server):
    url, token = server
    phones = [{"phone": "SIL", "start": 0, "end": 0.3}, {"phone": "AA", "start": 0.3, "end": 0.9},
              {"phone": "SIL", "start": 0.9, "end": 1.5}]
    status, curves = call(url, "/v1/listen", token, {"duration": 1.5, "phones": phones, "fps": 24.0, "seed": 1,
                                                    "gaze": {"points": [[0.2, 0, 1], [0.2, 0, 1.2]]}})
    assert status == 200, curves
    validate_curves(curves)
    assert curves["num_frames"] == 36 and "head" in curves and "eyes" in curves
    for body, fragment in (({"duration": 99999, "phones": phones}, "longer than the limit"),
                           ({"duration": 1.5, "phones": phones, "gaze": {"points": [[0, 0, 0]]}}, "at the eyes")):
        status, answer = call(url, "/v1/listen", token, body)
        assert status == 400 and fragment in answer["detail"]


def test_animate_with_samples_returns_every_take(server, front_center_wav):
    url, token = server
    status, created = call(url, "/v1/animate", token, {
        "audio_path": str(front_center_wav), "transcript": "front center", "seed": 7, "samples": 3,
        "guidance": 2.0, "synthesis": "baseline"})
    assert status == 202
    job, seen = wait_for(url, token, created["job_id"])
    assert job["state"] == "succeeded", job["error"]
    result = job["result"]
    validate_curves(result)  # still take 1's curves document
    takes = result["takes"]
    assert [t["model"]["take"] for t in takes] == [
        {"index": k + 1, "seed": 7 + k, "guidance": 2.0, "style": "sampled" if k else "typical"} for k in range(3)]
    assert all(t["model"]["synthesis"]["id"] == "baseline" for t in takes)
    for take in takes:
        validate_curves(take)
        assert take["num_frames"] == result["num_frames"] and take["phones"] == result["phones"]
    assert takes[0]["arkit"] == result["arkit"] and takes[1]["arkit"] != takes[0]["arkit"]
    progress = [p for p, _ in seen]
    assert progress == sorted(progress) and progress[-1] == 1.0


@pytest.mark.parametrize("options, fragment", [
    ({"samples": 0}, "samples"), ({"samples": 100}, "samples"), ({"guidance": -1.0}, "guidance"),
    ({"synthesis": "nope"}, "unknown synthesis model"), ({"language": "tlh"}, "no voice"),
    ({"language": "../fr"}, "language"), ({"head_motion": 2.5}, "head_motion"), ({"head_motion": -1}, "head_motion"),
    ({"gaze": "sideways"}, "gaze"), ({"gaze": {"point": [0, 0, 0]}}, "at the eyes"),
    ({"gaze": {"direction": [90, 0]}}, "past what eyes"), ({"gaze": {"point": [1, 2]}}, "gaze"),
])
def test_bad_take_options_get_a_4xx_and_the_server_keeps_serving(server, front_center_wav, options, fragment):
    url, token = server
    status, answer = call(url, "/v1/animate", token, {"audio_path": str(front_center_wav), **options})
    assert 400 <= status < 500
    assert fragment in json.dumps(answer["detail"])
    assert call(url, "/v1/health", token)[0] == 200


def test_animate_in_another_language_records_it_in_the_curves(server, asterisk_recording):
    url, token = server
    path, text = asterisk_recording("agent-pass", "it")
    status, created = call(url, "/v1/animate", token, {"audio_path": str(path), "transcript": text, "language": "it",
                                                      "instruction": "A neutral person speaks with relaxed face."})
    assert status == 202, created
    job, _ = wait_for(url, token, created["job_id"])
    assert job["state"] == "succeeded", job["error"]
    curves = job["result"]
    assert (curves["language"], curves["phoneme_source"], curves["transcript_source"]) == ("it", "espeak-ng", "given")
    assert "P" in [p["phone"] for p in curves["phones"]]  # "Prego … propria password"


def test_instruct_job_writes_an_instruction_per_segment(server, front_center_wav):
    url, token = server
    audio_b64 = base64.b64encode(front_center_wav.read_bytes()).decode()
    status, created = call(url, "/v1/instruct", token, {"audio_b64": audio_b64, "filename": "fc.wav"})
    assert status == 202
    job, _ = wait_for(url, token, created["job_id"])
    assert job["state"] == "succeeded", job["error"]
    result = job["result"]
    assert result["instruction"].startswith("A") and "person speaks with" in result["instruction"]
    assert result["segments"] and all(s["end"] > s["start"] for s in result["segments"])
    # No transcript was sent: the words the recogniser heard come back, marked as such.
    assert result["transcript_source"] == "recognized" and "center" in result["transcript"].lower()


@pytest.mark.parametrize("body, fragment", [
    ({"audio_b64": base64.b64encode(b"RIFF\x00\x00not really audio").decode(), "filename": "x.wav"}, "x.wav"),
    ({"audio_b64": base64.b64encode(b"").decode(), "filename": "empty.wav"}, "empty"),
    ({"audio_path": "/nonexistent/speech.wav"}, "speech.wav"),
    ({}, "audio_path or audio_b64"),
    ({"audio_b64": "%%% not base64"}, "base64"),
])
def test_bad_audio_gets_a_4xx_with_a_message_and_the_server_keeps_serving(server, body, fragment):
    url, token = server
    status, answer = call(url, "/v1/animate", token, body)
    assert 400 <= status < 500
    assert fragment.lower() in json.dumps(answer["detail"]).lower()
    assert call(url, "/v1/health", token)[0] == 200


def test_unknown_job_and_retarget_are_404(server, front_center_wav):
    url, token = server
    assert call(url, "/v1/jobs/nope", token)[0] == 404
    status, answer = call(url, "/v1/animate", token, {"audio_path": str(front_center_wav), "retarget_id": "nope"})
    assert status == 404 and "retarget" in answer["detail"]


def test_cancel_stops_a_running_job_and_a_queued_one(server, long_speech_wav):
    url, token = server
    _, running = call(url, "/v1/animate", token, {"audio_path": str(long_speech_wav)})
    _, queued = call(url, "/v1/animate", token, {"audio_path": str(long_speech_wav)})
    deadline = time.monotonic() + 30
    while call(url, f"/v1/jobs/{running['job_id']}", token)[1]["state"] == "queued":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert call(url, f"/v1/jobs/{queued['job_id']}/cancel", token, {})[1]["state"] == "cancelled"
    call(url, f"/v1/jobs/{running['job_id']}/cancel", token, {})
    job, _ = wait_for(url, token, running["job_id"])
    assert job["state"] == "cancelled" and job["result"] is None
    assert call(url, "/v1/health", token)[0] == 200


def test_an_agent_setting_that_cannot_load_stops_the_start_with_its_message(tmp_path):
    done = subprocess.run([sys.executable, "-m", "model_server", "serve", "--port", "0",
                           "--agent-weights", str(tmp_path / "none")], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode != 0 and READY_PREFIX not in done.stdout
    assert "no learned agent weights in" in done.stderr


def test_an_unknown_agent_dtype_stops_the_start_with_its_message():
    import os

    done = subprocess.run([sys.executable, "-m", "model_server", "serve", "--port", "0"], cwd=REPO, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "AVI_TALKING_AGENT_DTYPE": "half"})
    assert done.returncode != 0 and READY_PREFIX not in done.stdout
    assert "unknown dtype 'half'" in done.stderr and "AVI_TALKING_AGENT_DTYPE" in done.stderr


def test_server_exits_when_its_parent_closes_stdin():
    proc, url, token = start_server()
    assert call(url, "/v1/health", token)[0] == 200
    proc.stdin.close()
    assert proc.wait(timeout=15) is not None


def test_a_hostile_flame_pickle_is_refused_over_the_api_and_nothing_runs(server, tmp_path):
    import os
    import pickle

    class Payload:
        def __reduce__(self):
            return os.system, (f"touch {tmp_path / 'ran'}",)

    path = tmp_path / "generic_model.pkl"
    path.write_bytes(pickle.dumps({"v_template": Payload()}, protocol=2))
    url, token = server
    for endpoint in ("/v1/retargets", "/v1/flame_head"):
        status, answer = call(url, endpoint, token, {"flame_model_path": str(path)})
        assert status == 400 and "not a FLAME model file and was refused" in answer["detail"]
    assert not (tmp_path / "ran").exists()
    assert call(url, "/v1/health", token)[0] == 200


def test_the_token_comes_from_a_file_not_the_process_list(tmp_path):
    secret = tmp_path / "token"
    secret.write_text("a-token-of-thirty-two-characters\n")
    secret.chmod(0o600)
    proc, url, token = start_server("--token-file", str(secret))
    try:
        assert token == "a-token-of-thirty-two-characters"
        assert "a-token-of" not in " ".join(open(f"/proc/{proc.pid}/cmdline").read().split("\0"))  # not in `ps`
        assert call(url, "/v1/health", token)[0] == 200 and call(url, "/v1/health", "wrong")[0] == 401
    finally:
        proc.stdin.close()
        proc.wait(timeout=20)
    done = subprocess.run([sys.executable, "-m", "model_server", "serve", "--token-file", str(tmp_path / "none")],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "cannot read the token file" in done.stderr
