"""HTTP client for the model process (API v1). Plain Python: no bpy, so it tests without Blender."""

from __future__ import annotations

import base64
import json
import socket
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

API = "/v1"


class ServerUnavailable(ConnectionError):
    """Nothing answers at the server's address (not started, crashed, wrong URL)."""


class ServerError(RuntimeError):
    """The server answered with an error; the message is the server's explanation."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class ApiClient:
    def __init__(self, base_url: str, token: str, *, timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    @property
    def is_local(self) -> bool:
        host = self.base_url.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
        return host in ("127.0.0.1", "localhost", "[::1]")

    def request(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base_url + API + path, data=data, method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as err:
            try:
                detail = json.loads(err.read() or b"{}").get("detail", err.reason)
            except (json.JSONDecodeError, AttributeError):
                detail = err.reason
            if isinstance(detail, list):  # validation errors: list of {loc, msg}
                detail = "; ".join(f"{'.'.join(map(str, d.get('loc', [])))}: {d.get('msg')}" for d in detail)
            raise ServerError(err.code, f"model server: {detail}") from err
        except (urllib.error.URLError, ConnectionError, socket.timeout, TimeoutError) as err:
            reason = getattr(err, "reason", err)
            raise ServerUnavailable(f"model server at {self.base_url} is not reachable ({reason}); "
                                    "start it from the AVI-Talking panel") from err

    def health(self) -> dict:
        return self.request("GET", "/health")

    def audio_fields(self, audio_path: str) -> dict:
        """A local server reads the file itself; a remote one gets the bytes."""
        path = Path(audio_path)
        if self.is_local:
            return {"audio_path": str(path), "filename": path.name}
        try:
            data = path.read_bytes()
        except OSError as err:
            raise ServerError(400, f"cannot read {path}: {err.strerror}") from err
        return {"audio_b64": base64.b64encode(data).decode(), "filename": path.name}

    def submit_instruct(self, audio_path: str, transcript: str | None, span: dict | None = None,
                        language: str = "en") -> str:
        body = dict(self.audio_fields(audio_path), transcript=transcript or None, language=language, **(span or {}))
        return self.request("POST", "/instruct", body)["job_id"]

    def submit_animate(self, audio_path: str, *, transcript: str | None, instruction: str | None,
                       segments: list[dict] | None, seed: int, fps: float, retarget_id: str | None = None,
                       samples: int = 1, guidance: float | None = None, synthesis: str | None = None,
                       span: dict | None = None, layers: bool = False, language: str = "en",
                       head_motion: float = 1.0, gaze: dict | None = None) -> str:
        """The job's result is take 1's curves document; with samples > 1 its `takes` holds all of them.
        `span` ({clip_start, clip_end}, seconds into the file) animates only that part of the file;
        `layers`: each take also as lips, expression, eyes and blinks layers; `head_motion`: 0 (still) to 2;
        `gaze`: where eye contact is ({"points": …} for another character), None for the camera ahead."""
        body = dict(self.audio_fields(audio_path), transcript=transcript or None, instruction=instruction or None,
                    segments=segments or None, seed=seed, fps=fps, retarget_id=retarget_id,
                    samples=samples, guidance=guidance, synthesis=synthesis, language=language,
                    head_motion=head_motion, **(span or {}))
        if layers:  # only when asked: an older server refuses no field, but a newer one is not assumed
            body["layers"] = True
        if gaze:
            body["gaze"] = gaze
        return self.request("POST", "/animate", body)["job_id"]

    def listen(self, body: dict) -> dict:
        """A listener's curves document over a speaker's line (POST /v1/listen: quick, no job)."""
        return self.request("POST", "/listen", body)

    def job(self, job_id: str) -> dict:
        return self.request("GET", f"/jobs/{job_id}")

    def cancel(self, job_id: str) -> dict:
        return self.request("POST", f"/jobs/{job_id}/cancel", {})

    def create_retarget(self, body: dict[str, Any]) -> dict:
        return self.request("POST", "/retargets", body)

    def flame_head(self, flame_model_path: str) -> dict:
        return self.request("POST", "/flame_head", {"flame_model_path": flame_model_path})
