"""Requests to the model process run on a worker thread; Blender's main thread only reads progress.

The worker never touches bpy: everything it needs is gathered on the main thread first, and its
result is applied on the main thread (by the operator's modal timer, or directly in scripts).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from . import server_process
from .client import ApiClient, ServerError, ServerUnavailable

POLL_S = 0.1


@dataclass(frozen=True)
class Connection:
    """How to reach the server, read from the preferences on the main thread."""

    mode: str = "LOCAL"
    python: str = ""
    url: str = ""
    token: str = ""
    server_args: tuple[str, ...] = ()

    def client(self, on_stage: Callable[[str], None] = lambda s: None) -> ApiClient:
        if self.mode == "REMOTE":
            return ApiClient(self.url, self.token)
        server = server_process.current()
        if server is None:
            on_stage("starting model server")
            server = server_process.start(self.python, list(self.server_args))
        return server_process.wait_ready(server).client()


@dataclass
class Job:
    kind: str  # "instruct" or "animate"
    submit: Callable[[ApiClient], str]  # sends the request, returns the server's job id
    connection: Connection
    stage: str = "waiting"
    progress: float = 0.0
    state: str = "running"  # running | succeeded | failed | cancelled
    error: str = ""
    result: dict | None = None
    cancel_requested: threading.Event = field(default_factory=threading.Event)

    @property
    def finished(self) -> bool:
        return self.state != "running"

    def cancel(self) -> None:
        self.cancel_requested.set()

    def run(self) -> None:
        try:
            client = self.connection.client(self._set_stage)
            if self.cancel_requested.is_set():
                raise _Cancelled
            self.stage = "sending request"
            job_id = self.submit(client)
            self._follow(client, job_id)
        except _Cancelled:
            self.state, self.stage = "cancelled", "cancelled"
        except (ServerError, ServerUnavailable, server_process.ServerStartError) as err:
            self.state, self.error, self.stage = "failed", str(err), "failed"
        except Exception as err:  # never let a worker die silently: the UI would wait forever
            self.state, self.error, self.stage = "failed", f"unexpected error: {err}", "failed"

    def _set_stage(self, stage: str) -> None:
        self.stage = stage

    def _follow(self, client: ApiClient, job_id: str) -> None:
        cancel_sent = False
        while True:
            if self.cancel_requested.is_set() and not cancel_sent:
                client.cancel(job_id)
                cancel_sent = True
            status = client.job(job_id)
            self.progress, self.stage = status["progress"], status["stage"]
            if status["state"] == "succeeded":
                self.result, self.state = status["result"], "succeeded"
                return
            if status["state"] == "failed":
                self.error, self.state = status["error"] or "the model server failed", "failed"
                return
            if status["state"] == "cancelled":
                raise _Cancelled
            time.sleep(POLL_S)


class _Cancelled(Exception):
    pass


_active: Job | None = None


def start(job: Job) -> Job:
    """Run `job` on a worker thread. One job at a time: the model process serves one anyway."""
    global _active
    if _active is not None and not _active.finished:
        raise ServerError(409, "another AVI-Talking job is still running: wait for it or cancel it")
    _active = job
    threading.Thread(target=job.run, name=f"avi-talking-{job.kind}", daemon=True).start()
    return job


def active() -> Job | None:
    return _active


def wait(job: Job, report: Callable[[Job], None] | None = None) -> Job:
    """Block until the job ends (scripts and background mode, where no modal timer runs)."""
    last = None
    while not job.finished:
        if report is not None and (job.stage, round(job.progress, 1)) != last:
            last = (job.stage, round(job.progress, 1))
            report(job)
        time.sleep(POLL_S / 2)
    return job
