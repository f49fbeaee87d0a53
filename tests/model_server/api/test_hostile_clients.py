"""The model process against a careless or hostile client: every bad request gets a 4xx with words,
never a 500 or an accepted job that then fails inside; limits hold; a cancel leaves no trace.
The server is a real subprocess on a real socket in every test."""

from __future__ import annotations

import base64
import io
import json
import socket
import time
import urllib.parse

import numpy as np
import pytest
import soundfile

from .test_server import call, server, start_server, wait_for  # noqa: F401  (server: the fixture)

NEUTRAL = "A neutral person speaks with relaxed face."


@pytest.fixture(scope="module")
def speech(front_center_wav) -> tuple[np.ndarray, int]:
    samples, rate = soundfile.read(str(front_center_wav), dtype="float32")
    return samples, rate


def wav_bytes(samples: np.ndarray, rate: int, subtype: str = "FLOAT") -> bytes:
    out = io.BytesIO()
    soundfile.write(out, samples, rate, format="WAV", subtype=subtype)
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def raw_post(url: str, path: str, token: str, body: bytes) -> tuple[int, dict]:
    """POST bytes as they are (urllib's json would refuse NaN literals)."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url + path, data=body, headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, text = response.status, response.read()
    except urllib.error.HTTPError as err:
        status, text = err.code, err.read()
    try:
        return status, json.loads(text or b"{}")
    except ValueError:  # not JSON: what a 500 from the framework looks like
        return status, {"not_json": text[:200].decode("latin1")}


def mesh_body(vertices: np.ndarray, basis: np.ndarray) -> dict:
    return {"num_vertices": len(vertices), "num_expressions": len(basis),
            "vertices_b64": b64(vertices.astype("<f4").tobytes()), "expression_basis_b64": b64(basis.astype("<f4").tobytes())}


def assert_refused(status: int, answer: dict, fragment: str) -> None:
    assert 400 <= status < 500, (status, answer)
    assert fragment.lower() in json.dumps(answer["detail"]).lower(), answer


def test_over_long_and_broken_paths_are_4xx(server, tmp_path):
    url, token = server
    long_path, long_name = "/tmp/" + "a" * 5000, str(tmp_path / ("b" * 300 + ".wav"))
    for endpoint, field in (("/v1/animate", "audio_path"), ("/v1/retargets", "flame_model_path"),
                            ("/v1/flame_head", "flame_model_path")):
        assert_refused(*call(url, endpoint, token, {field: long_path}), "at most 4096 characters")
        assert_refused(*call(url, endpoint, token, {field: long_name}), "File name too long")
        assert call(url, endpoint, token, {field: str(tmp_path) + "/x\u0000.wav"})[0] == 400
    assert call(url, "/v1/health", token)[0] == 200


def test_sample_rates_no_recording_has_are_refused_by_the_header(server, tmp_path):
    url, token = server
    noise = np.random.default_rng(0).normal(0, 0.1, 3_300_000).astype(np.float32)  # 0.1 s at 32 MHz
    for rate in (32_000_000, 24_000_000, 1_000):
        path = tmp_path / f"rate{rate}.wav"
        soundfile.write(str(path), noise if rate > 1e6 else noise[:2000], rate, subtype="PCM_16")
        assert_refused(*call(url, "/v1/animate", token, {"audio_path": str(path)}), f"{rate} Hz is not a speech")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_float_wavs_with_non_numbers_are_refused_at_submission(server, speech, bad):
    url, token = server
    samples, rate = speech
    damaged = samples.copy()
    damaged[::97] = bad
    for endpoint in ("/v1/animate", "/v1/instruct"):
        assert_refused(*call(url, endpoint, token, {"audio_b64": b64(wav_bytes(damaged, rate))}), "not numbers")
    everything = np.full(16000, bad, np.float32)  # all-NaN audio used to get "slightly surprised"
    assert_refused(*call(url, "/v1/instruct", token, {"audio_b64": b64(wav_bytes(everything, 16000))}), "not numbers")


def test_json_with_nan_and_infinity_literals_gets_422_not_500(server, front_center_wav):
    url, token = server
    path = json.dumps(str(front_center_wav))
    for body, field in ((f'{{"audio_path": {path}, "fps": NaN}}', "fps"),
                        (f'{{"audio_path": {path}, "seed": Infinity}}', "seed"),
                        (f'{{"audio_path": {path}, "instruction": "x", "segments": '
                         f'[{{"start": -Infinity, "end": 1, "instruction": "x"}}]}}', "segments"),
                        (f'{{"audio_path": {path}, "clip_start": NaN}}', "clip_start")):
        status, answer = raw_post(url, "/v1/animate", token, body.encode())
        assert status == 422, (status, answer)
        assert field in json.dumps(answer["detail"]) and "NaN" not in json.dumps(answer["detail"])


def test_retargets_from_meshes_that_are_no_face_are_refused(server, tmp_path):
    url, token = server
    from ..retarget.flame_fixtures import flame_arrays

    arrays = flame_arrays()
    vertices = arrays["v_template"]
    basis = np.transpose(arrays["shapedirs"][:, :, 300:350], (2, 0, 1))
    nan_basis = basis.copy()
    nan_basis[3, 10, 1] = np.nan
    cases = [
        (mesh_body(np.zeros((1, 3)), np.ones((1, 1, 3))), "1 vertices"),
        (mesh_body(np.zeros_like(vertices), basis), "flat or a single point"),
        (mesh_body(vertices, np.zeros_like(basis)), "move no vertex"),
        (mesh_body(vertices, nan_basis), "not numbers"),
        (mesh_body(vertices, np.full_like(basis, np.inf)), "not numbers"),
        (dict(mesh_body(vertices, basis), vertices_b64="AAAAA"), "multiple of 4"),
        (dict(mesh_body(vertices, basis), vertices_b64=b64(bytes(13))), "whole number of 4-byte floats"),
        ({"num_vertices": 0, "num_expressions": 1, "vertices_b64": "", "expression_basis_b64": ""}, "num_vertices"),
    ]
    for body, fragment in cases:
        assert_refused(*call(url, "/v1/retargets", token, body), fragment)
    status, created = call(url, "/v1/retargets", token, mesh_body(vertices, basis))  # the real one still works
    assert status == 200 and created["info"]["source"] == "mesh-shape-keys"


@pytest.mark.parametrize("options, fragment", [
    ({"seed": -1}, "seed"), ({"seed": 2**40}, "seed"),
    ({"segments": [{"start": 5.0, "end": 9.0, "instruction": NEUTRAL}]}, "no segment overlaps"),
    ({"segments": [{"start": 0.0, "end": 1.0, "instruction": "  "}]}, "no instruction text"),
    ({"segments": [{"start": 1.0, "end": 0.2, "instruction": NEUTRAL}]}, "before it starts"),
    ({"segments": [{"start": 0.0, "end": 1.0}]}, "instruction"),
    ({"fps": 0}, "fps"), ({"filename": "x" * 1000}, "filename"),
    ({"synthesis": "x" * 1_000_000}, "unknown synthesis model"),
])
def test_options_that_would_fail_inside_the_job_are_refused_at_submission(server, front_center_wav, options, fragment):
    url, token = server
    status, answer = call(url, "/v1/animate", token, {"audio_path": str(front_center_wav), **options})
    assert_refused(status, answer, fragment)
    assert len(json.dumps(answer)) < 2000  # nothing the client sent is echoed back whole


def test_a_transcript_with_a_huge_number_is_animated_not_an_internal_error(server, front_center_wav):
    url, token = server
    status, answer = call(url, "/v1/animate", token, {"audio_path": str(front_center_wav),
                                                      "transcript": "front " + "7" * 5000 + " center"})
    assert status == 202, answer
    job, _ = wait_for(url, token, answer["job_id"])
    assert job["state"] == "succeeded", job


def test_error_messages_reveal_no_bytes_addresses_or_paths(server, tmp_path):
    url, token = server
    secret = tmp_path / "notes.txt"
    secret.write_text("very secret first line\n")
    for endpoint in ("/v1/retargets", "/v1/flame_head"):
        status, answer = call(url, endpoint, token, {"flame_model_path": str(secret)})
        assert status == 400 and "'v'" not in answer["detail"] and "secret first" not in answer["detail"]
    for data in (b"RIFF\x10\x00\x00\x00WAVEfmt " + bytes(8), b"\x00" * 64, b"ID3" + bytes(100)):
        status, answer = call(url, "/v1/animate", token, {"audio_b64": b64(data), "filename": "take.wav"})
        assert status == 400 and "0x" not in answer["detail"] and "BytesIO" not in answer["detail"], answer
    status, answer = call(url, "/v1/animate", token, {"audio_b64": "YWJj\u00e9ZA=="})
    assert status == 400 and "0x" not in answer["detail"]


def test_the_openapi_schema_names_the_error_replies_and_one_audio_source(server):
    url, token = server
    schema = call(url, "/v1/openapi.json", token)[1]
    animate = schema["paths"]["/v1/animate"]["post"]["responses"]
    assert {"202", "400", "401", "404", "413", "422", "429"} <= animate.keys()
    assert {"400", "422"} <= schema["paths"]["/v1/retargets"]["post"]["responses"].keys()
    assert "404" in schema["paths"]["/v1/jobs/{job_id}"]["get"]["responses"]
    request = schema["components"]["schemas"]["AnimateRequest"]
    assert request["oneOf"] == [{"required": ["audio_path"]}, {"required": ["audio_b64"]}]
    for body in ({}, {"audio_path": "/a.wav", "audio_b64": "AAAA"}):
        assert_refused(*call(url, "/v1/animate", token, body), "exactly one of audio_path or audio_b64")


def test_a_cancel_during_recognition_or_alignment_leaves_the_next_job_unchanged(long_speech_wav, asterisk_recording):
    """Cancel long jobs at several moments of recognition and alignment; the unrelated job run next
    must give exactly what a fresh server gives for it."""
    probe_wav, _ = asterisk_recording("agent-pass")
    probe = {"audio_path": str(probe_wav), "instruction": NEUTRAL, "fps": 30.0}

    def run(url, token, body) -> dict:
        job, _ = wait_for(url, token, call(url, "/v1/animate", token, body)[1]["job_id"], timeout=300)
        assert job["state"] == "succeeded", job["error"]
        return job["result"]

    proc, url, token = start_server()
    try:
        fresh = run(url, token, probe)
    finally:
        proc.stdin.close()
        proc.wait(timeout=20)
    proc, url, token = start_server()
    try:
        for delay, transcript in ((0.3, None), (1.5, None), (4.0, None), (0.5, "the demo line"), (2.0, "x")):
            body = {"audio_path": str(long_speech_wav), "instruction": NEUTRAL}
            if transcript:
                body["transcript"] = transcript
            job_id = call(url, "/v1/animate", token, body)[1]["job_id"]
            deadline = time.monotonic() + 60
            while not call(url, f"/v1/jobs/{job_id}", token)[1]["stage"].startswith(
                    ("recognizing speech", "aligning phones", "aligning the words heard")):
                assert time.monotonic() < deadline
                time.sleep(0.02)
            time.sleep(delay)
            call(url, f"/v1/jobs/{job_id}/cancel", token, {})
            assert wait_for(url, token, job_id)[0]["state"] == "cancelled"
            after = run(url, token, probe)
            assert after["transcript"] == fresh["transcript"]
            assert after["phones"] == fresh["phones"]
            assert after["arkit"] == fresh["arkit"] and after["flame"] == fresh["flame"]
    finally:
        proc.stdin.close()
        proc.wait(timeout=20)


def test_every_finished_job_stays_readable_until_its_retention_passes(server, speech):
    """70 quick jobs (the job table used to keep only 64): every one is still there when they are all
    done; on a server keeping jobs 3 s, a finished job is there before and gone after."""
    url, token = server
    samples, rate = speech
    quick = {"audio_b64": b64(wav_bytes(samples[: int(0.6 * rate)], rate)), "instruction": NEUTRAL,
             "transcript": "front", "synthesis": "baseline"}
    job_ids = []
    while len(job_ids) < 70:  # submitted as fast as the queue takes them
        status, answer = call(url, "/v1/animate", token, quick)
        if status == 429:
            time.sleep(0.2)
            continue
        assert status == 202, answer
        job_ids.append(answer["job_id"])
    wait_for(url, token, job_ids[-1])  # one worker: the last done means all are done
    for job_id in job_ids:
        status, job = call(url, f"/v1/jobs/{job_id}", token)
        assert status == 200 and job["state"] == "succeeded", job

    proc, url, token = start_server("--job-retention", "3")
    try:
        job_id = call(url, "/v1/animate", token, quick)[1]["job_id"]
        assert wait_for(url, token, job_id)[0]["state"] == "succeeded"
        time.sleep(3.5)
        status, answer = call(url, f"/v1/jobs/{job_id}", token)
        assert status == 404 and "3 s ago" in answer["detail"]
    finally:
        proc.stdin.close()
        proc.wait(timeout=20)


def test_body_size_queue_and_request_time_limits(long_speech_wav, tmp_path):
    proc, url, token = start_server("--max-body-mb", "1", "--max-queued-jobs", "2", "--request-timeout", "2")
    port = urllib.parse.urlsplit(url).port
    try:
        big = {"audio_b64": "A" * (2 * 2**20)}
        assert_refused(*call(url, "/v1/animate", token, big), "limit of 1 MiB")
        with socket.create_connection(("127.0.0.1", port)) as conn:  # streamed without a length
            conn.sendall(f"POST /v1/animate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
                         f"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
            for _ in range(20):
                conn.sendall(b"10000\r\n" + b"A" * 0x10000 + b"\r\n")
            reply = conn.recv(4096)
        assert reply.startswith(b"HTTP/1.1 413")

        body = {"audio_path": str(long_speech_wav), "instruction": NEUTRAL}
        first, second = (call(url, "/v1/animate", token, body)[1]["job_id"] for _ in range(2))
        status, answer = call(url, "/v1/animate", token, body)
        assert_refused(status, answer, "2 jobs are queued or running")
        for job_id in (first, second):
            call(url, f"/v1/jobs/{job_id}/cancel", token, {})
            wait_for(url, token, job_id)
        assert call(url, "/v1/animate", token, body)[0] == 202  # room again once they finished

        for half in (b"GET /v1/health HTTP/1.1\r\nHost: x\r\nAuthor",
                     f"POST /v1/animate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
                     f"Content-Length: 500\r\n\r\n{{\"audio".encode()):
            with socket.create_connection(("127.0.0.1", port)) as conn:
                conn.settimeout(10)
                conn.sendall(half)
                start = time.monotonic()
                reply = conn.recv(4096)
                assert reply.startswith(b"HTTP/1.1 408") and time.monotonic() - start < 5
                assert conn.recv(4096) == b""  # and the connection is closed
        assert call(url, "/v1/health", token)[0] == 200
    finally:
        proc.stdin.close()
        proc.wait(timeout=20)


def test_off_loopback_the_server_reads_only_files_under_its_roots(front_center_wav, tmp_path):
    inside = tmp_path / "dialogue"
    inside.mkdir()
    (inside / "line.wav").write_bytes(front_center_wav.read_bytes())
    (inside / "escape.wav").symlink_to(front_center_wav)
    missing = str(tmp_path / "no-such.wav")
    proc, url, token = start_server("--host", "0.0.0.0")
    try:
        for path in (str(front_center_wav), missing, str(inside / "line.wav")):
            assert_refused(*call(url, "/v1/animate", token, {"audio_path": path}), "reads no files named in requests")
        assert_refused(*call(url, "/v1/retargets", token, {"flame_model_path": missing}), "reads no files")
    finally:
        proc.stdin.close()
        proc.wait(timeout=20)
    proc, url, token = start_server("--host", "0.0.0.0", "--file-root", str(inside))
    try:
        answers = [call(url, "/v1/animate", token, {"audio_path": p}) for p in
                   (str(front_center_wav), missing, str(inside / "escape.wav"), str(inside / ".." / "no-such.wav"))]
        assert {status for status, _ in answers} == {403}
        assert len({a["detail"] for _, a in answers}) == 1  # the same words whether the file exists or not
        status, created = call(url, "/v1/animate", token, {"audio_path": str(inside / "line.wav"), "instruction": NEUTRAL})
        assert status == 202 and wait_for(url, token, created["job_id"])[0]["state"] == "succeeded"
    finally:
        proc.stdin.close()
        proc.wait(timeout=20)


def test_a_decompression_bomb_is_refused_from_its_header_without_the_memory(tmp_path):
    from ..audio.test_loading import tone_bomb

    def resident_mib(pid: int) -> float:
        status = open(f"/proc/{pid}/status").read()
        return int(status.split("VmRSS:")[1].split()[0]) / 1024

    proc, url, token = start_server("--max-audio-minutes", "1")
    try:
        before = resident_mib(proc.pid)
        bomb = tone_bomb(tmp_path / "bomb.flac", seconds=3.0)  # 15.7 million samples, 1 min allows 5.8
        for body in ({"audio_path": str(bomb)}, {"audio_b64": b64(bomb.read_bytes()), "filename": "bomb.flac"}):
            assert_refused(*call(url, "/v1/animate", token, body), "million samples")
        assert resident_mib(proc.pid) - before < 100  # nothing was decoded
    finally:
        proc.stdin.close()
        proc.wait(timeout=20)


def test_cancel_stops_learned_synthesis_of_many_segments_at_once(server, long_speech_wav):
    """Hundreds of segments (the most a request may have) in the learned model: a cancel during synthesis
    ends the job within seconds, not after the prior has run for all of them; more segments are refused."""
    url, token = server
    duration = 120.0
    many = [{"start": i * duration / 500, "end": (i + 1) * duration / 500,
             "instruction": f"A {'very' if i % 2 else 'slightly'} angry person speaks with brow lowered ({i})."}
            for i in range(500)]
    body = {"audio_path": str(long_speech_wav), "segments": many, "synthesis": "learned",
            "transcript": "x " * 3}
    too_many = dict(body, segments=many + many[:1])
    assert_refused(*call(url, "/v1/animate", token, too_many), "at most 500 per request")
    status, answer = call(url, "/v1/animate", token, body)
    assert status == 202, answer
    job_id = answer["job_id"]
    deadline = time.monotonic() + 300
    while not call(url, f"/v1/jobs/{job_id}", token)[1]["stage"].startswith("synthesizing motion"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)
    asked = time.monotonic()
    call(url, f"/v1/jobs/{job_id}/cancel", token, {})
    job, _ = wait_for(url, token, job_id)
    assert job["state"] == "cancelled" and time.monotonic() - asked < 15
