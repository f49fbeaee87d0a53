"""Batch lines in worker processes on this machine, each with its own pipeline loaded once.

The pool is sized to the machine: a worker per core while memory allows (each holds the models),
and each worker's compute limited to its share of the cores. A worker that dies (killed, out of
memory) breaks the pool: a new pool runs the lines that were left, and a line whose workers died
twice is failed with that reason.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Callable, Iterable

from ..config import PipelineConfig
from .line_work import BatchOutputs, run_line, workers_died
from .manifest import BatchLine
from .orphans import exit_when_gone
from .records import LineResult, attempt_count

WORKER_MEMORY_BYTES = 2 * 2**30  # a worker's models and their working memory, measured peak ~1.9 GiB
MAX_POOL_BREAKS_PER_LINE = 2


def machine_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def available_memory() -> int | None:
    try:
        with open("/proc/meminfo") as info:
            fields = dict(line.split(":", 1) for line in info)
        return int(fields["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return None


def pool_size(lines: int, requested: int | None = None) -> tuple[int, int]:
    """(worker processes, threads each): one per core unless memory or the line count says fewer."""
    cores = machine_cores()
    workers = requested or cores
    memory = available_memory()
    if requested is None and memory is not None:
        workers = min(workers, max(1, memory // WORKER_MEMORY_BYTES))
    workers = max(1, min(workers, lines))
    return workers, max(1, cores // workers)


def run_pool(jobs: list[tuple[BatchLine, str]], config: PipelineConfig, out_dir: Path, outputs: BatchOutputs,
             workers: int, threads: int, on_result: Callable[[LineResult], None]) -> None:
    """Run every (line, fingerprint) and hand each result to on_result as it finishes."""
    pending = list(jobs)
    while pending:
        started_before = {line.id: attempt_count(out_dir, line.id) for line, _ in pending}
        unfinished = _run_until_broken(pending, config, out_dir, outputs, workers, threads, on_result)
        pending = []
        for line, fingerprint in unfinished:
            attempts = attempt_count(out_dir, line.id)
            if attempts > started_before[line.id] and attempts >= MAX_POOL_BREAKS_PER_LINE:
                on_result(workers_died(line, fingerprint, out_dir, attempts,
                                       "its worker process died each time it ran (out of memory or killed)"))
            else:  # it was running when a worker died, or waiting its turn: run it in the new pool
                pending.append((line, fingerprint))


def _run_until_broken(jobs: Iterable[tuple[BatchLine, str]], config, out_dir, outputs, workers, threads,
                      on_result) -> list[tuple[BatchLine, str]]:
    """The jobs left unfinished when a worker died (none when the pool ran them all)."""
    context = multiprocessing.get_context("spawn")  # no fork of a parent holding threads and models
    pool = concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                                  initializer=exit_when_gone, initargs=(os.getpid(),))
    try:
        futures = {pool.submit(run_line, config, threads, line, out_dir, outputs, fingerprint): (line, fingerprint)
                   for line, fingerprint in jobs}
        unfinished = []
        for future in concurrent.futures.as_completed(futures):
            try:
                on_result(future.result())
            except BrokenProcessPool:
                unfinished.append(futures[future])
        return unfinished
    finally:  # also on Ctrl-C: lines not started are dropped, running ones end with their workers
        pool.shutdown(wait=True, cancel_futures=True)
