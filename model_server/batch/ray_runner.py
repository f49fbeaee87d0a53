"""Batch lines as tasks on a Ray cluster (`pip install ray`; optional, imported only here).

Each line is one task. A Ray worker process builds its pipeline on its first line and keeps it for
the next ones. When a worker dies mid-line (its node lost, the process killed), Ray runs the task
again on another worker (`max_retries`); the line's record counts the attempts. Every node must
have this repository and its environment at the same path, and OUT_DIR must be a folder every node
writes to (a shared mount): each task writes its line's files and record there itself.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from ..config import PipelineConfig
from ..errors import InputError
from .line_work import BatchOutputs, run_line, workers_died
from .manifest import BatchLine
from .orphans import exit_when_gone
from .records import LineResult

REPO = Path(__file__).resolve().parents[2]
TASK_RETRIES = 3  # runs of a line after its worker died, before it is failed
THREADS_PER_TASK = 1


def run_on_ray(jobs: list[tuple[BatchLine, str]], config: PipelineConfig, out_dir: Path, outputs: BatchOutputs,
               address: str, on_result: Callable[[LineResult], None]) -> None:
    try:
        import ray
    except ImportError:
        raise InputError("--ray needs Ray: pip install ray==2.60.0 (in the model process's environment)") from None
    if "://" in str(out_dir) and not str(out_dir).startswith("file://"):
        raise InputError("the output must be a folder every node can write to (mount the object store as one)")
    # The tasks import model_server from this repository; the same path must hold it on every node.
    runtime_env = {"env_vars": {"PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
                                "AVI_TALKING_THREADS": str(THREADS_PER_TASK)}}
    try:
        ray.init(address=None if address == "local" else address, runtime_env=runtime_env,
                 include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise InputError(f"cannot reach the Ray cluster at {address!r}: {exc}") from exc
    try:
        task = ray.remote(num_cpus=THREADS_PER_TASK, max_retries=TASK_RETRIES, retry_exceptions=False)(run_watched)
        driver = os.getpid() if address == "local" else None  # a pid means something on this machine only
        waiting = {task.remote(driver, config, THREADS_PER_TASK, line, out_dir.resolve(), outputs, fingerprint):
                   (line, fingerprint) for line, fingerprint in jobs}
        while waiting:
            done, _ = ray.wait(list(waiting), num_returns=1)
            line, fingerprint = waiting.pop(done[0])
            try:
                on_result(ray.get(done[0]))
            except ray.exceptions.RayError as exc:  # retries spent: the worker died every time
                on_result(workers_died(line, fingerprint, out_dir, TASK_RETRIES + 1,
                                       f"its Ray task failed on every try ({type(exc).__name__})"))
    finally:
        ray.shutdown()


def run_watched(driver: int | None, *args) -> LineResult:
    """run_line in a Ray worker that ends itself once the batch (the driver on this machine) is gone."""
    if driver is not None:
        exit_when_gone(driver)
    return run_line(*args)
