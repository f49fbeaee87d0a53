"""Requests to the model process run on a worker thread; Blender's main thread applies the results.

The split is strict: the worker never touches bpy. Everything it needs is gathered on the main
thread first (`Job.submit` closes over plain values), it reports through a locked progress record,
and when it ends the job waits until `apply_finished_job(context)` runs on the main thread and
does the Blender writes. The operators' modal timer calls that function in the UI; scripts and
background mode (where no timer fires) call it directly after `wait`.
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field, replace
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
        server = server_process.start(self.python, list(self.server_args))  # the running one if its settings match
        if not server.ready.is_set():
            on_stage("starting model server…")
        return server_process.wait_ready(server).client()


@dataclass(frozen=True)
class Progress:
    state: str = "running"  # running | succeeded | failed | cancelled
    stage: str = "waiting"
    progress: float = 0.0  # 0..1
    error: str = ""


class Job:
    """One request to the model process and what to do with its result on the main thread.

    `submit(client) -> server job id` runs on the worker; `apply(context, result) -> message` runs on
    the main thread, inside `apply_finished_job`.
    """

    def __init__(self, kind: str, submit: Callable[[ApiClient], str],
                 apply: Callable[[object, dict], str], connection: Connection):
        self.kind, self.submit, self.apply, self.connection = kind, submit, apply, connection
        self.result: dict | None = None
        self.message = ""  # what apply() reported
        self.applied = False  # main thread only
        self.cancel_requested = threading.Event()
        self._lock = threading.Lock()
        self._progress = Progress()

    def snapshot(self) -> Progress:
        with self._lock:
            return self._progress

    def _update(self, **changes) -> None:
        with self._lock:
            self._progress = replace(self._progress, **changes)

    state = property(lambda self: self.snapshot().state)
    stage = property(lambda self: self.snapshot().stage)
    progress = property(lambda self: self.snapshot().progress)
    error = property(lambda self: self.snapshot().error)

    @property
    def finished(self) -> bool:
        return self.state != "running"

    def cancel(self) -> None:
        self.cancel_requested.set()

    def run(self) -> None:
        """The worker thread's body: reach the server, do the work, store the outcome. Never raises."""
        try:
            self._work(self.connection.client(lambda stage: self._update(stage=stage)))
        except _Cancelled:
            self._update(state="cancelled", stage="cancelled")
        except (ServerError, ServerUnavailable, server_process.ServerStartError) as err:
            self._update(state="failed", stage="failed", error=str(err))
        except Exception as err:  # never let a worker die silently: the UI would wait forever
            traceback.print_exc()
            self._update(state="failed", stage="failed", error=f"unexpected error: {err}")

    def _work(self, client: ApiClient) -> None:
        """Submit, follow, store the result (BatchJob does several lines here instead)."""
        if self.cancel_requested.is_set():
            raise _Cancelled
        self._update(stage="sending request")
        job_id = self.submit(client)
        try:
            self.result = follow(client, job_id, self.cancel_requested,
                                 lambda progress, stage: self._update(progress=progress, stage=stage))
        except JobFailed as failure:
            self._update(state="failed", stage="failed", error=str(failure))
            return
        self._update(state="succeeded", stage="done", progress=1.0)  # after the result is published


class _Cancelled(Exception):
    pass


class JobFailed(Exception):
    """The server job failed; the message is the server's."""


def follow(client: ApiClient, job_id: str, cancel_requested: threading.Event,
           report: Callable[[float, str], None]) -> dict:
    """Poll a server job to its end: its result; JobFailed or _Cancelled otherwise (a cancel request
    is passed on to the server once)."""
    cancel_sent = False
    while True:
        if cancel_requested.is_set() and not cancel_sent:
            client.cancel(job_id)
            cancel_sent = True
        status = client.job(job_id)
        if status["state"] == "succeeded":
            return status["result"]
        if status["state"] == "failed":
            raise JobFailed(status["error"] or "the model server failed")
        if status["state"] == "cancelled":
            raise _Cancelled
        report(float(status["progress"]), status["stage"])
        time.sleep(POLL_S)


@dataclass
class LineOutcome:
    """What became of one line of a batch: keyed, refused (before sending), failed or cancelled."""

    line: str
    state: str  # keyed | refused | failed | cancelled | skipped (a strip Blender does not play)
    message: str = ""
    result: dict | None = None
    listening: list = field(default_factory=list)  # (ListenerSpec, the listener's curves or an error message)


class BatchJob(Job):
    """Several lines in a row (Generate All): one progress bar ("line k of n"), Cancel stops inside
    the line being made and skips the rest, and `apply` keys every finished line on the main thread
    at the end (one undo step). A line that fails does not stop the others; the message lists each."""

    def __init__(self, kind: str, requests: list, refused: list[LineOutcome], connection: Connection,
                 order: list[str]):
        super().__init__(kind, None, self._apply_all, connection)
        self.requests, self.outcomes, self.order = requests, list(refused), order  # order: every line

    def _work(self, client: ApiClient) -> None:
        for index, request in enumerate(self.requests):
            self._run_line(client, index, request)
        cancelled = self.cancel_requested.is_set()
        self._update(state="succeeded", stage="cancelled" if cancelled else "done", progress=1.0)

    def _run_line(self, client: ApiClient, index: int, request) -> None:
        count = len(self.requests)
        label = f"line {index + 1} of {count} ('{request.strip}')"
        if self.cancel_requested.is_set():
            self.outcomes.append(LineOutcome(request.strip, "cancelled", "cancelled before it started"))
            return

        def report(progress: float, stage: str) -> None:
            self._update(progress=(index + progress) / count, stage=f"{label}: {stage}")

        report(0.0, "sending request")
        try:
            result = follow(client, request.submit(client), self.cancel_requested, report)
        except _Cancelled:
            self.outcomes.append(LineOutcome(request.strip, "cancelled", "cancelled while it was made"))
        except (JobFailed, ServerError) as err:
            self.outcomes.append(LineOutcome(request.strip, "failed", str(err)))
        else:
            outcome = LineOutcome(request.strip, "keyed", result=result)
            for spec in request.listeners:  # quick: the listener's face is made from the line's phones
                report(1.0, f"'{spec.face}' listening")
                try:
                    outcome.listening.append((spec, request.listen(client, result, spec)))
                except ServerError as err:
                    outcome.listening.append((spec, str(err)))
            self.outcomes.append(outcome)

    def _apply_all(self, context, _result) -> str:
        requests = {request.strip: request for request in self.requests}
        for outcome in self.outcomes:
            if outcome.state == "keyed":
                try:
                    outcome.message = requests[outcome.line].apply(context, outcome.result)
                except (ValueError, LookupError) as err:  # the face went away or cannot take keys now
                    outcome.state, outcome.message = "failed", str(err)
                outcome.result = None  # curves are large: keep only what is reported
            if outcome.state == "keyed" and outcome.listening:
                outcome.message += "; " + "; ".join(self._apply_listening(context, requests[outcome.line], outcome))
            outcome.listening = []
        keyed = sum(o.state == "keyed" for o in self.outcomes)
        skipped = sum(o.state == "skipped" for o in self.outcomes)
        head = f"{keyed} of {len(self.order) - skipped} lines keyed"
        head += f"; {skipped} not played, so not animated" if skipped else ""
        if self.cancel_requested.is_set():
            head += " (cancelled: the lines after it were skipped)"
        self.outcomes.sort(key=lambda o: self.order.index(o.line))
        return "\n".join([head] + [f"{o.line}: {o.state}" + (f" — {o.message}" if o.message else "")
                                    for o in self.outcomes])

    def _apply_listening(self, context, request, outcome: LineOutcome) -> list[str]:
        """Each listener of a keyed line, keyed or said why not."""
        said = []
        for spec, curves in outcome.listening:
            if isinstance(curves, str):
                said.append(f"'{spec.face}' does not listen: {curves}")
                continue
            try:
                said.append(request.apply_listening(context, spec, curves))
            except (ValueError, LookupError) as err:
                said.append(f"'{spec.face}' does not listen: {err}")
        return said


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


def running() -> bool:
    return _active is not None and not _active.finished


def cancel_active() -> None:
    if running():
        _active.cancel()


def wait(job: Job, report: Callable[[Job], None] | None = None) -> Job:
    """Block until the job ends (scripts and background mode, where no modal timer runs)."""
    last = None
    while not job.finished:
        if report is not None and (job.stage, round(job.progress, 1)) != last:
            last = (job.stage, round(job.progress, 1))
            report(job)
        time.sleep(POLL_S / 2)
    return job


def sync_status(context) -> None:
    """Copy the running job's progress into the window manager, where panels read it."""
    job = _active
    status = context.window_manager.avi_talking_job
    if job is None:
        status.state = "idle"
        return
    snap = job.snapshot()
    status.kind, status.state, status.stage = job.kind, snap.state, snap.stage
    status.progress, status.error = snap.progress, snap.error


def apply_finished_job(context) -> Job | None:
    """Main thread only. If the job has ended and was not applied yet, apply it and return it.

    A failed `apply` marks the job failed; `job.state`, `job.error` and `job.message` tell the caller
    what to report. The outcome is also left in the Scene (`avi_talking.last_status`, saved with the
    file) and the window manager (progress, transient).
    """
    job = _active
    if job is None or not job.finished or job.applied:
        if context.window_manager is not None:
            sync_status(context)
        return None
    job.applied = True
    if job.state == "succeeded":
        try:
            job.message = job.apply(context, job.result)
        except Exception as err:  # the scene must not be left half-written without saying so
            if not isinstance(err, (ValueError, LookupError)):
                traceback.print_exc()
            job._update(state="failed", stage="failed", error=f"{err}")
    if context.window_manager is not None:
        sync_status(context)
    snap = job.snapshot()
    summary = {"succeeded": job.message, "failed": f"{job.kind} failed: {snap.error}",
               "cancelled": f"{job.kind} cancelled, nothing was changed"}[snap.state]
    context.scene.avi_talking.last_status = summary
    return job
