"""Start, find and stop the model process. The add-on owns at most one local server.

The server is `python -m model_server serve --port 0 --exit-on-stdin-eof`: it picks a free port on
127.0.0.1, prints `AVI_TALKING_READY {"port", "token", ...}` once it listens, and exits when its
stdin closes, which happens when Blender exits or dies (no orphan processes).
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from .client import ApiClient

READY_PREFIX = "AVI_TALKING_READY "
START_TIMEOUT_S = 180.0


class ServerStartError(RuntimeError):
    """The model process could not be started; the message says why (with its last output)."""


@dataclass
class LocalServer:
    process: subprocess.Popen
    command: list[str] = field(default_factory=list)
    url: str = ""
    token: str = ""
    ready: threading.Event = field(default_factory=threading.Event)
    error: str = ""
    output_tail: list[str] = field(default_factory=list)

    def alive(self) -> bool:
        return self.process.poll() is None

    def client(self) -> ApiClient:
        return ApiClient(self.url, self.token)


_lock = threading.Lock()
_server: LocalServer | None = None


def package_root() -> Path:
    """The folder that contains model_server/: the installed extension itself, or the repo."""
    here = Path(__file__).resolve().parent
    return here if (here / "model_server").is_dir() else here.parent


def current() -> LocalServer | None:
    with _lock:
        return _server if _server is not None and _server.alive() else None


def start(python: str = "", extra_args: list[str] | None = None) -> LocalServer:
    """Launch the server unless one runs with these settings; returns at once. Use `wait_ready` to
    block until it listens. A server started with other settings (the preferences changed) is stopped
    first, so a new FLAME model or agent takes effect without a manual restart."""
    global _server
    interpreter = python or sys.executable
    command = [interpreter, "-m", "model_server", "serve", "--host", "127.0.0.1", "--port", "0",
               "--exit-on-stdin-eof", *(extra_args or [])]
    with _lock:
        if _server is not None and _server.alive() and _server.command == command:
            return _server
        stale, _server = _server, None
    if stale is not None:
        _shut_down(stale)
    with _lock:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env.pop("PYTHONHOME", None)  # Blender's own Python home must not leak into another interpreter
        try:
            process = subprocess.Popen(command, cwd=package_root(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True, env=env)
        except OSError as err:
            raise ServerStartError(f"cannot run the model server's Python '{interpreter}': {err.strerror}. "
                                   "Set the Python interpreter in the add-on preferences") from err
        _server = LocalServer(process, command)
        threading.Thread(target=_read_output, args=(_server,), daemon=True).start()
        return _server


def _read_output(server: LocalServer) -> None:
    """Watch the server's output for the ready line; keep the tail for error messages."""
    for line in server.process.stdout:
        line = line.rstrip("\n")
        if line.startswith(READY_PREFIX) and not server.ready.is_set():
            info = json.loads(line[len(READY_PREFIX):])
            server.url, server.token = f"http://127.0.0.1:{info['port']}", info["token"]
            server.ready.set()
        else:
            server.output_tail = (server.output_tail + [line])[-12:]
    if not server.ready.is_set():
        server.error = "\n".join(server.output_tail[-5:]) or "no output"
        server.ready.set()


def wait_ready(server: LocalServer, timeout: float = START_TIMEOUT_S) -> LocalServer:
    if not server.ready.wait(timeout):
        stop()
        raise ServerStartError(f"model server did not start within {timeout:.0f} s")
    if server.error or not server.alive():
        raise ServerStartError(f"model server exited during start-up: {server.error or 'see console'}. "
                               "Check the Python interpreter in the add-on preferences (it needs "
                               "the packages of requirements.txt)")
    return server


def stop() -> None:
    global _server
    with _lock:
        server, _server = _server, None
    if server is not None:
        _shut_down(server)


def _shut_down(server: LocalServer) -> None:
    try:
        server.process.stdin.close()  # the server's own shutdown path
        server.process.wait(timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        server.process.kill()
        server.process.wait(timeout=5)


atexit.register(stop)
