"""Run the API on 127.0.0.1, announce port and token on stdout, and never outlive the caller."""

from __future__ import annotations

import json
import os
import secrets
import socket
import sys
import threading
from pathlib import Path

import uvicorn

from .. import __version__
from ..config import PipelineConfig
from ..agent.registry import check_agent_setting
from ..pipeline import TalkingFacePipeline
from .app import create_app
from .file_access import FileAccess
from .limits import ServerLimits, deadline_protocol

READY_PREFIX = "AVI_TALKING_READY "


def serve(config: PipelineConfig, *, host: str = "127.0.0.1", port: int = 0, token: str | None = None,
          exit_on_stdin_eof: bool = False, limits: ServerLimits = ServerLimits(),
          file_roots: tuple[Path, ...] = ()) -> None:
    token = token or os.environ.get("AVI_TALKING_TOKEN") or secrets.token_urlsafe(32)
    pipeline = TalkingFacePipeline.from_config(config)
    # A setting that cannot load stops the start with its message; the models themselves load after
    # the announcement, while the first request reads its audio (it waits for them only if it needs
    # them before they are in).
    check_agent_setting(config.agent, url=config.agent_url, lm=config.agent_lm, weights=config.agent_weights)
    # torch is imported whole before any request can arrive (about a second of the start): imported by the
    # model loader and a request's thread at once, Python's import deadlock breaking handed one of them
    # a half-initialised torch ("partially initialized module 'torch' has no attribute 'Tensor'").
    import torch  # noqa: F401
    app = create_app(pipeline, token, max_audio_seconds=config.max_audio_seconds, limits=limits,
                     files=FileAccess.for_host(host, file_roots))

    # Bind first so the port is known (port 0 = any free port) before uvicorn starts.
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(64)
    bound_port = sock.getsockname()[1]

    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False,
                                           http=deadline_protocol(limits.request_read_seconds)))
    if exit_on_stdin_eof:
        threading.Thread(target=_exit_when_stdin_closes, args=(server,), daemon=True).start()
    announcement = {"port": bound_port, "token": token, "pid": os.getpid(), "version": __version__}
    loader = threading.Thread(target=_load_models, args=(pipeline,), name="load-models", daemon=True)
    _announce_when_started(server, announcement, then=loader.start)  # loading earlier would slow the start down
    server.run(sockets=[sock])
    if loader.is_alive():  # stopped while still loading: leave without unwinding the loader (it may be in torch)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def _load_models(pipeline: TalkingFacePipeline) -> None:
    """What a request needs, in the order it needs it, in the background: the front end's resampler and
    dictionary, the agent, the default synthesis model. A failure is told to stderr and again to each
    request that needs the model (it tries to load it then)."""
    for load in (pipeline.front_end.prepare, pipeline.agent.loaded, lambda: pipeline.synthesizer):
        try:
            load()
        except Exception as exc:  # noqa: BLE001 - told, not raised: requests naming another model still work
            print(f"warning: {exc}", file=sys.stderr, flush=True)


def _announce_when_started(server: uvicorn.Server, announcement: dict, then=lambda: None) -> None:
    def wait_and_print() -> None:
        while not server.started:
            if server.should_exit:
                return
            threading.Event().wait(0.02)
        print(READY_PREFIX + json.dumps(announcement), flush=True)
        then()

    threading.Thread(target=wait_and_print, daemon=True).start()


def _exit_when_stdin_closes(server: uvicorn.Server) -> None:
    # Blender holds the write end of our stdin; when Blender exits or dies, read() returns EOF.
    try:
        while sys.stdin.buffer.read(1024):
            pass
    except (OSError, ValueError):
        pass
    server.should_exit = True
    # If a job is mid-computation, graceful shutdown may wait on it; do not linger as an orphan.
    threading.Timer(5.0, lambda: os._exit(0)).start()
