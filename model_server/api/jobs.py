"""Long requests run as jobs: one worker thread (one model in memory), progress, cancellation.

Retention: a finished job's status (and result) is kept for `keep_seconds` after it finished, or
for `keep_after_read_seconds` after a client first read it finished, whichever ends first; a job
never disappears while it is queued or running. At most `max_queued` jobs wait or run at once."""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
import time
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import InputError, JobCancelled

KEEP_AFTER_READ_SECONDS = 60.0  # long enough for a client to read a result twice (a retried poll)
FINISHED = ("succeeded", "failed", "cancelled")


class QueueFull(Exception):
    """More jobs are waiting than the server's limit; the client should retry later."""


@dataclass
class Job:
    kind: str
    job_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    state: str = "queued"
    progress: float = 0.0
    stage: str = "queued"
    error: str | None = None
    result: dict | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)
    finished_at: float | None = None
    read_at: float | None = None

    def status(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id, "kind": self.kind, "state": self.state,
            "progress": round(self.progress, 4), "stage": self.stage,
            "error": self.error, "result": self.result,
        }

    def finish(self, state: str, *, error: str | None = None, result: dict | None = None) -> None:
        self.error, self.result = error, result
        if state == "succeeded":
            self.progress = 1.0
        self.state, self.stage = state, {"succeeded": "done"}.get(state, state)
        self.finished_at = time.monotonic()


class JobQueue:
    def __init__(self, *, max_queued: int, keep_seconds: float) -> None:
        self.max_queued, self.keep_seconds = max_queued, keep_seconds
        self.keep_after_read_seconds = min(KEEP_AFTER_READ_SECONDS, keep_seconds)
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="avi-job")

    def check_room(self) -> None:
        """QueueFull now where a job could not be queued: a request checks before it decodes its audio, so a
        flood of requests against a full queue decodes nothing."""
        with self._lock:
            self._check_room()

    def _check_room(self) -> None:
        self._forget_old_jobs()
        waiting = sum(1 for j in self._jobs.values() if j.state not in FINISHED)
        if waiting >= self.max_queued:
            raise QueueFull(f"{waiting} jobs are queued or running, the limit of this server; wait for one to finish")

    def submit(self, kind: str, work: Callable[[Callable[[float, str], None], threading.Event], dict]) -> Job:
        job = Job(kind=kind)
        with self._lock:
            self._check_room()
            self._jobs[job.job_id] = job
        self._executor.submit(self._run, job, work)
        return job

    def get(self, job_id: str) -> Job | None:
        """The job, marked read if it has finished (its retention clock then runs faster)."""
        with self._lock:
            self._forget_old_jobs()
            job = self._jobs.get(job_id)
            if job is not None and job.state in FINISHED and job.read_at is None:
                job.read_at = time.monotonic()
            return job

    def cancel(self, job_id: str) -> Job | None:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is not None and job.state in ("queued", "running"):
            job.cancel_event.set()
            if job.state == "queued":
                job.finish("cancelled")
        return job

    def shutdown(self) -> None:
        for job in list(self._jobs.values()):
            job.cancel_event.set()
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _run(self, job: Job, work) -> None:
        if job.cancel_event.is_set():
            if job.state != "cancelled":
                job.finish("cancelled")
            return
        job.state, job.stage = "running", "starting"

        def progress(fraction: float, stage: str) -> None:
            if job.cancel_event.is_set():
                raise JobCancelled("cancelled by the user")
            job.progress, job.stage = max(job.progress, min(1.0, fraction)), stage

        try:
            result = work(progress, job.cancel_event)
        except JobCancelled:
            job.finish("cancelled")
        except InputError as exc:
            job.finish("failed", error=str(exc))
        except Exception as exc:  # a bug, not bad input: keep serving, report it
            traceback.print_exc()
            job.finish("failed", error=f"internal error: {exc}")
        else:
            job.finish("succeeded", result=result)
        finally:
            release_freed_memory()

    def _forget_old_jobs(self) -> None:
        now = time.monotonic()
        for job in [j for j in self._jobs.values() if j.finished_at is not None]:
            read_long_ago = job.read_at is not None and now - job.read_at > self.keep_after_read_seconds
            if read_long_ago or now - job.finished_at > self.keep_seconds:
                del self._jobs[job.job_id]


_LIBC = ctypes.CDLL(ctypes.util.find_library("c")) if ctypes.util.find_library("c") else None


def release_freed_memory() -> None:
    """Hand memory freed by the last job back to the system (glibc keeps it otherwise, and a server
    that ran one long clip would hold that peak for ever)."""
    trim = getattr(_LIBC, "malloc_trim", None)
    if trim is not None:
        trim(0)
