"""Long requests run as jobs: one worker thread (one model in memory), progress, cancellation."""

from __future__ import annotations

import threading
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import InputError, JobCancelled

MAX_FINISHED_JOBS = 64  # results are large (curves): keep only the recent ones


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

    def status(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id, "kind": self.kind, "state": self.state,
            "progress": round(self.progress, 4), "stage": self.stage,
            "error": self.error, "result": self.result,
        }


class JobQueue:
    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="avi-job")

    def submit(self, kind: str, work: Callable[[Callable[[float, str], None], threading.Event], dict]) -> Job:
        job = Job(kind=kind)
        with self._lock:
            self._jobs[job.job_id] = job
            self._forget_old_jobs()
        self._executor.submit(self._run, job, work)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def cancel(self, job_id: str) -> Job | None:
        job = self.get(job_id)
        if job is not None and job.state in ("queued", "running"):
            job.cancel_event.set()
            if job.state == "queued":
                job.state, job.stage = "cancelled", "cancelled"
        return job

    def shutdown(self) -> None:
        for job in list(self._jobs.values()):
            job.cancel_event.set()
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _run(self, job: Job, work) -> None:
        if job.cancel_event.is_set():
            job.state, job.stage = "cancelled", "cancelled"
            return
        job.state, job.stage = "running", "starting"

        def progress(fraction: float, stage: str) -> None:
            if job.cancel_event.is_set():
                raise JobCancelled("cancelled by the user")
            job.progress, job.stage = max(job.progress, min(1.0, fraction)), stage

        try:
            result = work(progress, job.cancel_event)
        except JobCancelled:
            job.state, job.stage = "cancelled", "cancelled"
        except InputError as exc:
            job.state, job.stage, job.error = "failed", "failed", str(exc)
        except Exception as exc:  # a bug, not bad input: keep serving, report it
            traceback.print_exc()
            job.state, job.stage, job.error = "failed", "failed", f"internal error: {exc}"
        else:
            job.result, job.progress, job.state, job.stage = result, 1.0, "succeeded", "done"

    def _forget_old_jobs(self) -> None:
        finished = [j for j in self._jobs.values() if j.state in ("succeeded", "failed", "cancelled")]
        for job in finished[:-MAX_FINISHED_JOBS]:
            del self._jobs[job.job_id]
