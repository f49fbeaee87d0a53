"""Batch workers die with the batch: after kill -9 of the batch process, its workers (about 650 MiB each)
used to go on animating lines nobody would collect, then sit idle for ever. Each worker watches the
process that started the batch and exits within a second of it going away: the local pool's workers
(their parent), and Ray tasks on this machine (the driver, by its pid)."""

from __future__ import annotations

import os
import threading
import time

WATCH_INTERVAL_S = 0.5
ORPHANED_EXIT_STATUS = 70  # EX_SOFTWARE: the batch that owned this worker is gone

_watched: set[int] = set()
_lock = threading.Lock()


def exit_when_gone(batch_pid: int) -> None:
    """Start, once per process, a daemon thread that ends this process when `batch_pid` has exited (or
    this process was handed to another parent: a worker whose parent died is re-parented)."""
    with _lock:
        if batch_pid in _watched:
            return
        _watched.add(batch_pid)
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(WATCH_INTERVAL_S)
            if not _alive(batch_pid) or (parent == batch_pid and os.getppid() != batch_pid):
                os._exit(ORPHANED_EXIT_STATUS)

    threading.Thread(target=watch, daemon=True, name="avi-batch-watch").start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True
