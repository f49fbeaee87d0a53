"""The running job's Cancel, reachable from deep inside a model (the diffusion prior's steps, batches of
the sentence encoder) without threading an Event through every signature: the pipeline opens a scope
around the work, and long loops call `check_cancelled()`. Scopes are per thread (context variables)."""

from __future__ import annotations

import contextlib
import contextvars
import threading

from .errors import JobCancelled

_current: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar("avi_cancel", default=None)


@contextlib.contextmanager
def cancellable(cancel: threading.Event | None):
    token = _current.set(cancel)
    try:
        yield
    finally:
        _current.reset(token)


def check_cancelled() -> None:
    """JobCancelled where the job in this thread was cancelled; nothing outside a job."""
    cancel = _current.get()
    if cancel is not None and cancel.is_set():
        raise JobCancelled("cancelled by the user")
