"""Seeded fuzzing of the model process: hundreds of malformed audio files and request bodies, each
answered by a 4xx with words or by a job that ends without an internal error; never a 500."""

from __future__ import annotations

import base64
import io
import json
import struct

import numpy as np
import soundfile

from .test_hostile_clients import NEUTRAL, raw_post, server, wav_bytes  # noqa: F401  (server: the fixture)
from .test_server import call, wait_for

SEED = 20261201
FILE_CASES, BODY_CASES = 180, 180
SUBTYPES = ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE", "ULAW", "ALAW"]


def malformed_files(speech: np.ndarray, rate: int, rng: np.random.Generator) -> list[tuple[str, bytes]]:
    """Real speech written and then broken in every way a file on a user's disk can be."""
    clip = speech[int(0.4 * rate):int(1.0 * rate)]
    base = wav_bytes(clip, rate, "PCM_16")
    flac, ogg = io.BytesIO(), io.BytesIO()
    soundfile.write(flac, clip, rate, format="FLAC")
    soundfile.write(ogg, clip, rate, format="OGG")
    originals = [base, flac.getvalue(), ogg.getvalue()]
    files: list[tuple[str, bytes]] = []
    while len(files) < FILE_CASES:
        kind = len(files) % 9
        data = bytearray(originals[rng.integers(len(originals))])
        if kind == 0:
            files.append(("truncated", bytes(data[: rng.integers(0, len(data))])))
        elif kind == 1:
            for i in rng.integers(0, 64, rng.integers(1, 6)):
                data[i] = rng.integers(256)
            files.append(("header bytes changed", bytes(data)))
        elif kind == 2:
            for i in rng.integers(0, len(data), rng.integers(1, 200)):
                data[i] = rng.integers(256)
            files.append(("body bytes changed", bytes(data)))
        elif kind == 3:
            files.append(("random bytes", rng.bytes(int(rng.integers(0, 5000)))))
        elif kind == 4:  # one header field of the WAV set to any 32-bit value
            wav = bytearray(base)
            offset = int(rng.choice([4, 16, 22, 24, 28, 32, 34, 40]))
            size = 2 if offset in (22, 32, 34) else 4
            wav[offset:offset + size] = struct.pack("<I", int(rng.integers(0, 2**32)))[:size]
            files.append((f"header field at {offset}", bytes(wav)))
        elif kind == 5:  # legal files of odd shape: channels, rates, sample formats, lengths
            channels = int(rng.integers(1, 9))
            new_rate = int(rng.choice([4000, 8000, 11025, 22051, 44100, 96000, 192000, 768000]))
            seconds = float(rng.uniform(0.0, 0.6))
            samples = rng.normal(0, 0.2, (int(seconds * new_rate), channels)).astype(np.float32)
            files.append((f"{channels} ch {new_rate} Hz", wav_bytes(samples, new_rate, str(rng.choice(SUBTYPES)))))
        elif kind == 6:  # float samples with non-numbers, huge values or silence
            samples = clip.copy()
            mode = rng.integers(3)
            if mode == 0:
                samples[rng.integers(0, len(samples), 5)] = rng.choice([np.nan, np.inf, -np.inf])
            elif mode == 1:
                samples *= 1e30
            else:
                samples[:] = 0
            files.append((f"float samples mode {mode}", wav_bytes(samples, rate, "FLOAT")))
        elif kind == 7:  # a second copy of the data chunk announced as gigantic
            wav = bytearray(base)
            wav[40:44] = struct.pack("<I", 0xFFFFFFF0)
            files.append(("data size huge", bytes(wav + rng.bytes(int(rng.integers(0, 100))))))
        else:
            files.append(("empty", b""))
    return files


POOL = [None, True, False, 0, -1, 1, 2**63, -(2**70), 1e308, -1e-308, 0.5, "", " ", "x" * 5000, "\u0000",
        "\ud7ff\ue000", "../../etc/passwd", [], {}, [1, "a", None], {"nested": {"deeper": [1]}}, "NaN"]
FIELDS = {
    "/v1/animate": ["audio_path", "audio_b64", "filename", "clip_start", "clip_end", "transcript", "instruction",
                    "segments", "seed", "samples", "guidance", "synthesis", "fps", "retarget_id"],
    "/v1/instruct": ["audio_path", "audio_b64", "filename", "clip_start", "clip_end", "transcript"],
    "/v1/retargets": ["flame_model_path", "num_vertices", "num_expressions", "vertices_b64", "expression_basis_b64"],
    "/v1/flame_head": ["flame_model_path"],
}


def malformed_bodies(audio_b64: str, rng: np.random.Generator) -> list[tuple[str, bytes]]:
    """Request bodies of the wrong shape: any value in any field, broken JSON, NaN literals, nesting."""
    bodies: list[tuple[str, bytes]] = []
    while len(bodies) < BODY_CASES:
        endpoint = list(FIELDS)[rng.integers(len(FIELDS))]
        kind = len(bodies) % 6
        if kind <= 2:  # a valid request with one to three fields set to anything
            body = {"audio_b64": audio_b64, "instruction": NEUTRAL} if "audio_b64" in FIELDS[endpoint] else {}
            fields = FIELDS[endpoint]
            for field in rng.choice(fields, min(len(fields), int(rng.integers(1, 4))), replace=False):
                value = POOL[rng.integers(len(POOL))]
                if field == "segments" and rng.random() < 0.5:
                    value = [{"start": POOL[rng.integers(len(POOL))], "end": 1.0, "instruction": NEUTRAL}]
                body[str(field)] = value
            text = json.dumps(body)
            if rng.random() < 0.2:  # a number written as a NaN or Infinity literal
                text = text.replace("0.5", "NaN").replace("1e+308", "Infinity")
            bodies.append((endpoint, text.encode()))
        elif kind == 3:  # broken JSON
            text = json.dumps({"audio_b64": audio_b64[:40], "fps": 25})
            cut = int(rng.integers(0, len(text)))
            bodies.append((endpoint, (text[:cut] + rng.choice(["", "}", "{{", "\x00", "\xff"])).encode("utf-8", "replace")))
        elif kind == 4:  # deep nesting and top-level values that are not objects
            depth = int(rng.choice([10, 1000, 100_000]))
            bodies.append((endpoint, rng.choice([b"[" * depth + b"]" * depth, b'{"a":' * depth + b"1" + b"}" * depth,
                                                 b"null", b"[]", b'"text"', b"12"])))
        else:  # bytes that are not UTF-8 at all
            bodies.append((endpoint, rng.bytes(int(rng.integers(1, 300)))))
    return bodies


def answer_is_sound(url: str, token: str, status: int, answer: dict, what: str) -> None:
    assert status != 500 and (status == 202 or 400 <= status < 500), (what, status, answer)
    if status == 202:
        job, _ = wait_for(url, token, answer["job_id"], timeout=120)
        assert job["state"] in ("succeeded", "failed"), (what, job)
        assert not (job["error"] or "").startswith("internal error"), (what, job["error"])
    elif status != 404:
        assert answer.get("detail"), (what, status, answer)


def test_hundreds_of_malformed_files_and_bodies_never_get_a_500(server, front_center_wav):
    url, token = server
    rng = np.random.default_rng(SEED)
    speech, rate = soundfile.read(str(front_center_wav), dtype="float32")
    files = malformed_files(speech, rate, rng)
    bodies = malformed_bodies(base64.b64encode(wav_bytes(speech[: int(0.6 * rate)], rate)).decode(), rng)
    assert len(files) + len(bodies) >= 300
    outcomes = {"accepted": 0, "refused": 0}
    for what, data in files:
        body = {"audio_b64": base64.b64encode(data).decode(), "filename": "take.wav", "instruction": NEUTRAL,
                "transcript": "front", "synthesis": "baseline"}
        status, answer = call(url, "/v1/animate", token, body)
        answer_is_sound(url, token, status, answer, what)
        outcomes["accepted" if status == 202 else "refused"] += 1
    for endpoint, data in bodies:
        status, answer = raw_post(url, endpoint, token, data)
        answer_is_sound(url, token, status, answer, f"{endpoint} {data[:200]!r}")
        outcomes["accepted" if status == 202 else "refused"] += 1
    assert min(outcomes.values()) > 20, outcomes  # the cases reach both the refusals and the jobs
    assert call(url, "/v1/health", token)[0] == 200


def test_decoded_size_bombs_are_refused_by_their_header_and_small_files_pass(tmp_path):
    """Seeded files of 1 to 8 channels at 8 to 655 kHz: refused exactly when samples × channels exceed
    the budget of a 6-second limit (stereo 48 kHz: 576,000), accepted otherwise; the server's memory
    stays where it was."""
    from model_server.audio.loading import decoded_budget

    from .test_hostile_clients import start_server

    rng = np.random.default_rng(SEED + 1)
    proc, url, token = start_server("--max-audio-minutes", "0.1")
    budget = decoded_budget(6.0)
    try:
        rss = lambda: int(open(f"/proc/{proc.pid}/status").read().split("VmRSS:")[1].split()[0]) // 1024  # noqa: E731
        before, refused = None, 0
        for case in range(24):
            channels = int(rng.integers(1, 9))
            rate = int(rng.choice([8000, 48000, 96000, 192000, 384000, 655350]))
            seconds = float(rng.uniform(0.2, 1.5))
            t = np.arange(int(rate * seconds), dtype=np.float32) / rate
            tone = np.repeat((0.3 * np.sin(2 * np.pi * 180 * t))[:, None], channels, axis=1)
            data = io.BytesIO()
            soundfile.write(data, tone, rate, format="FLAC")
            status, answer = call(url, "/v1/animate", token, {
                "audio_b64": base64.b64encode(data.getvalue()).decode(), "filename": f"bomb{case}.flac",
                "instruction": NEUTRAL, "transcript": "front", "synthesis": "baseline"})
            answer_is_sound(url, token, status, answer, f"{channels} ch {rate} Hz {seconds:.2f} s")
            over = len(t) * channels > budget
            assert (status == 400 and "million samples" in json.dumps(answer)) == over, (channels, rate, status)
            refused += over
            if before is None and not over:
                before = rss()  # after the first job: the models are loaded by then
        assert 4 <= refused <= 20  # the seed reaches both sides of the budget
        assert before is not None and rss() - before < 300
    finally:
        proc.stdin.close()
        proc.wait(timeout=20)
