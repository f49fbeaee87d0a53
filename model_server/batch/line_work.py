"""One batch line in a worker process: load the audio, animate it, write its files and its record.

A worker builds its pipeline once (`worker_pipeline`) and keeps it for every line it is given. The
line's own problems (bad audio, a bad instruction) come back as "refused", anything else as "failed";
neither reaches the caller as an exception, so one line never stops the batch.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from ..config import PipelineConfig
from ..errors import InputError
from .manifest import BatchLine
from .records import LineResult, note_attempt, save_record, write_atomically


@dataclass(frozen=True)
class BatchOutputs:
    live_link: bool = False  # also a Live Link Face CSV per line
    glb_rig: str | None = None  # also a baked .glb per line: "demo" or a .blend (glb_bake.py)
    glb_face: str | None = None  # the face object in that .blend

    def names(self, line_id: str) -> list[str]:
        """The files the model stage writes (the glb comes after, from Blender)."""
        return [f"{line_id}.json"] + ([f"{line_id}.live_link.csv"] if self.live_link else [])


_PIPELINES: dict = {}  # one per worker process, built on its first line


def worker_pipeline(config: PipelineConfig, threads: int):
    """The worker's pipeline, its compute limited to `threads` cores (the pool shares the machine)."""
    if "pipeline" not in _PIPELINES:
        os.environ["AVI_TALKING_THREADS"] = str(threads)  # read by the Whisper recogniser when it loads
        import torch

        from ..pipeline import TalkingFacePipeline

        torch.set_num_threads(threads)
        _PIPELINES["pipeline"] = TalkingFacePipeline.from_config(config)
    return _PIPELINES["pipeline"]


def run_line(config: PipelineConfig, threads: int, line: BatchLine, out_dir: Path, outputs: BatchOutputs,
             fingerprint: str) -> LineResult:
    attempts = note_attempt(out_dir, line.id)
    started = time.perf_counter()
    result = LineResult(number=line.number, id=line.id, status="ok", fingerprint=fingerprint,
                        character=line.character, attempts=attempts)
    try:
        result.outputs, result.reason = _animate(worker_pipeline(config, threads), config, line, out_dir, outputs)
    except InputError as exc:
        result.status, result.reason = "refused", str(exc)
    except Exception as exc:  # noqa: BLE001 - a line's failure is reported, and the batch goes on
        where = traceback.extract_tb(exc.__traceback__)[-1]
        result.status = "failed"
        result.reason = f"{type(exc).__name__}: {exc} ({Path(where.filename).name}:{where.lineno})"
    result.seconds = round(time.perf_counter() - started, 3)
    save_record(out_dir, result)
    return result


def workers_died(line: BatchLine, fingerprint: str, out_dir: Path, attempts: int, reason: str) -> LineResult:
    """The failed result (and record) of a line whose every worker died while running it."""
    result = LineResult(number=line.number, id=line.id, status="failed", fingerprint=fingerprint,
                        character=line.character, attempts=attempts, reason=reason)
    save_record(out_dir, result)
    return result


def _animate(pipeline, config: PipelineConfig, line: BatchLine, out_dir: Path,
             outputs: BatchOutputs) -> tuple[list[str], str]:
    """The files written, and a note for the summary ("" when there is nothing to say)."""
    from ..audio.loading import load_audio, trimmed
    from ..audio.transcript_fit import unused_text_note
    from ..live_link import curves_to_live_link_csv
    from ..nonverbal.options import nonverbal_options

    audio = trimmed(load_audio(line.audio, max_seconds=config.max_audio_seconds), line.start, line.end)
    curves = pipeline(audio, transcript=line.transcript, instruction=line.instruction, segments=line.segments,
                      seed=line.seed, fps=line.fps, language=line.language,
                      nonverbal=nonverbal_options(line.head_motion, line.gaze))  # validated as it was built
    names = outputs.names(line.id)
    write_atomically(out_dir / names[0], json.dumps(curves, separators=(",", ":")))
    if outputs.live_link:
        write_atomically(out_dir / names[1], curves_to_live_link_csv(curves))
    return names, unused_text_note(line.transcript, curves)
