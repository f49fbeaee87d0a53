"""A whole batch: read the manifest, skip what an earlier run finished, run the rest, write the summary.

Progress goes to `progress(text)` once per finished line, with the time left estimated from this
run's pace. Ctrl-C stops the batch after the running lines; the summary lists what was done, and a
rerun picks up the rest.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable

from .. import __version__
from ..config import LEARNED_AGENT_DIR, PipelineConfig
from ..errors import InputError
from .glb_bake import bake_glbs, check_blender
from .line_work import BatchOutputs
from .manifest import read_manifest
from .records import (
    RECORDS, LineResult, clear_attempts, file_digest, fingerprint, finished_before, open_no_follow, write_summary,
)


def run_batch(manifest: Path, out_dir: Path, config: PipelineConfig, outputs: BatchOutputs, *,
              workers: int | None = None, ray_address: str | None = None, blender_python: str = sys.executable,
              progress: Callable[[str], None] = lambda text: None) -> list[LineResult]:
    lines, refused = read_manifest(manifest)
    if outputs.glb_rig:
        if outputs.glb_rig != "demo" and not Path(outputs.glb_rig).is_file():
            raise InputError(f"--glb: no such .blend file: {outputs.glb_rig}")
        check_blender(blender_python)
    out_dir = Path(out_dir)
    try:
        (out_dir / RECORDS).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot write to {out_dir}: {exc.strerror or exc}") from exc
    if (out_dir / RECORDS).is_symlink():
        raise InputError(f"{out_dir / RECORDS} is a link to somewhere else: the batch writes only inside its "
                         "output folder")
    with folder_lock(out_dir):
        return _run(lines, refused, out_dir, config, outputs, workers, ray_address, blender_python, progress)


@contextlib.contextmanager
def folder_lock(out_dir: Path):
    """One batch at a time per output folder: a second one stops at once, saying which process holds it."""
    descriptor = open_no_follow(out_dir / RECORDS / "lock", os.O_RDWR | os.O_CREAT)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 32, 0).decode(errors="replace").strip() or "another process"
            raise InputError(f"another batch (process {holder}) is writing to {out_dir}: wait for it to finish, "
                             "or give this one another output folder") from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(descriptor)  # the lock goes with the descriptor, and with the process if it is killed


def _run(lines, refused, out_dir: Path, config: PipelineConfig, outputs: BatchOutputs, workers: int | None,
         ray_address: str | None, blender_python: str, progress: Callable[[str], None]) -> list[LineResult]:
    settings = _settings(config, outputs)
    results: list[LineResult] = [LineResult(number=line.number, id=line.id, status="refused", reason=line.reason,
                                            character=line.character)
                                 for line in refused]  # no record: their id may not even name a file
    jobs = []
    for line in lines:
        line_print = fingerprint(line.inputs(), line.audio, settings)
        earlier = finished_before(out_dir, line.id, line_print)
        if earlier is not None:
            earlier.number = line.number
            results.append(earlier)
        else:
            clear_attempts(out_dir, line.id)
            jobs.append((line, line_print))
    resumed = sum(r.resumed for r in results)
    progress(f"{len(lines) + len(refused)} lines: {resumed} done before, {len(refused)} refused, "
             f"{len(jobs)} to animate")
    pace = _Pace(len(jobs), progress)

    def finished(result: LineResult) -> None:
        results.append(result)
        pace.done(result)

    try:
        if jobs and ray_address:
            from .ray_runner import run_on_ray

            run_on_ray(jobs, config, out_dir, outputs, ray_address, finished)
        elif jobs:
            from .local_pool import pool_size, run_pool

            count, threads = pool_size(len(jobs), workers)
            progress(f"{count} worker process{'es' if count > 1 else ''}, {threads} thread{'s' if threads > 1 else ''} each")
            run_pool(jobs, config, out_dir, outputs, count, threads, finished)
        if outputs.glb_rig:
            new = [r for r in results if r.status == "ok" and not r.resumed]
            bake_glbs(new, out_dir, outputs.glb_rig, outputs.glb_face, blender_python, progress)
    finally:
        write_summary(out_dir, results)
    return results


class _Pace:
    """Lines finished so far in this run and, from their pace, about how long the rest will take."""

    def __init__(self, total: int, progress: Callable[[str], None]) -> None:
        self.total, self.finished, self.progress = total, 0, progress
        self.started = time.monotonic()

    def done(self, result: LineResult) -> None:
        self.finished += 1
        elapsed = time.monotonic() - self.started
        left = elapsed / self.finished * (self.total - self.finished)
        what = f"{result.status}: {result.reason}" if result.reason else result.status
        self.progress(f"[{self.finished}/{self.total}] {result.id}: {what} ({result.seconds:.1f} s)"
                      + (f", about {_duration(left)} left" if self.finished < self.total else ""))


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _settings(config: PipelineConfig, outputs: BatchOutputs) -> dict:
    """What besides the line itself shapes its files: the code's version, the models and their weights."""
    from ..synthesis.registry import LEARNED_WEIGHTS_DIR

    weights = [Path(config.agent_weights or LEARNED_AGENT_DIR), LEARNED_WEIGHTS_DIR]
    digests = {str(path.relative_to(folder.parent)): file_digest(path)
               for folder in weights if folder.is_dir() for path in sorted(folder.glob("*.safetensors"))}
    if outputs.glb_rig and outputs.glb_rig != "demo":
        digests["glb_rig"] = file_digest(Path(outputs.glb_rig))
    if config.flame_model:
        try:
            digests["flame_model"] = file_digest(Path(config.flame_model))
        except OSError as exc:
            raise InputError(f"cannot read the FLAME model {config.flame_model}: {exc.strerror or exc}") from exc
    return {"version": __version__, "agent": [config.agent, config.agent_url, config.agent_model,
                                              str(config.agent_lm or "")],
            "synthesis": config.synthesis, "weights": digests, "max_audio_seconds": config.max_audio_seconds,
            "outputs": asdict(outputs)}
