"""The talking-face pipeline: components in, curves out, like a diffusers pipeline.

    pipeline = TalkingFacePipeline.from_config(PipelineConfig())
    instruction = pipeline.instruct(audio, transcript)            # stage 1: instruction agent
    curves = pipeline(audio, transcript=..., instruction=...)     # stage 2: talking-face synthesis

Swapping the baseline agent or synthesizer for a learned one is one constructor argument.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Protocol

import numpy as np

from . import __version__
from .audio.front_end import SpeechFrontEnd
from .audio.types import Audio, SpeechAnalysis
from .config import DEFAULT_FPS, PipelineConfig
from .curves import build_curves
from .errors import InputError, JobCancelled
from .retarget.arkit_to_flame import FlameRetarget

ProgressCallback = Callable[[float, str], None]


class InstructionAgent(Protocol):
    def instruct(self, analysis: SpeechAnalysis) -> tuple[str, list[dict]]: ...
    def describe(self) -> dict: ...


class Synthesizer(Protocol):
    def synthesize(self, analysis: SpeechAnalysis, segments: list[dict], *, seed: int, fps: float) -> Any: ...
    def describe(self) -> dict: ...


def _no_progress(fraction: float, stage: str) -> None:
    pass


class TalkingFacePipeline:
    def __init__(
        self,
        front_end: SpeechFrontEnd,
        agent: InstructionAgent,
        synthesizer: Synthesizer,
        retarget: FlameRetarget,
    ) -> None:
        self.front_end = front_end
        self.agent = agent
        self.synthesizer = synthesizer
        self.retarget = retarget

    @classmethod
    def from_config(cls, config: PipelineConfig) -> "TalkingFacePipeline":
        from .agent.baseline import BaselineInstructionAgent
        from .synthesis.baseline import BaselineArticulator

        if config.agent != "baseline":
            raise InputError(f"unknown instruction agent {config.agent!r}; available: baseline")
        if config.synthesis != "baseline":
            raise InputError(f"unknown synthesis model {config.synthesis!r}; available: baseline")
        retarget = FlameRetarget.from_flame_model(config.flame_model) if config.flame_model else FlameRetarget.default()
        return cls(SpeechFrontEnd(), BaselineInstructionAgent(), BaselineArticulator(), retarget)

    def describe(self) -> dict:
        return {
            "avi_talking": __version__,
            "front_end": self.front_end.describe(),
            "agent": self.agent.describe(),
            "synthesis": self.synthesizer.describe(),
            "retarget": self.retarget.info,
        }

    def instruct(
        self,
        audio: Audio,
        transcript: str | None = None,
        *,
        fps: float = DEFAULT_FPS,
        progress: ProgressCallback = _no_progress,
        cancel: threading.Event | None = None,
    ) -> dict:
        """Stage 1: speech → editable visual instruction (whole clip and per segment)."""
        analysis = self._analyze(audio, transcript, fps, progress, cancel, share=0.7)
        progress(0.75, "writing instruction")
        instruction, segments = self.agent.instruct(analysis)
        progress(1.0, "done")
        return {
            "instruction": instruction,
            "segments": segments,
            "transcript": analysis.alignment.transcript,
            "phones": _phones_json(analysis),
            "alignment_method": analysis.alignment.method,
        }

    def __call__(
        self,
        audio: Audio,
        *,
        transcript: str | None = None,
        instruction: str | None = None,
        segments: list[dict] | None = None,
        seed: int = 0,
        fps: float = DEFAULT_FPS,
        retarget: FlameRetarget | None = None,
        progress: ProgressCallback = _no_progress,
        cancel: threading.Event | None = None,
    ) -> dict:
        """Stage 2: speech + instruction → curves document (ARKit weights and FLAME curves)."""
        if not (0 < fps <= 240):
            raise InputError(f"fps must be between 0 and 240, got {fps}")
        analysis = self._analyze(audio, transcript, fps, progress, cancel, share=0.5)
        if segments:
            segments = _checked_segments(segments, audio.duration, instruction)
            instruction = instruction or segments[0]["instruction"]
        elif instruction and instruction.strip():
            segments = [{"start": 0.0, "end": audio.duration, "instruction": instruction.strip()}]
        else:
            progress(0.55, "writing instruction")
            instruction, segments = self.agent.instruct(analysis)
        _check_cancel(cancel)
        progress(0.6, "synthesizing motion")
        articulation = self.synthesizer.synthesize(analysis, segments, seed=seed, fps=fps)
        _check_cancel(cancel)
        progress(0.9, "retargeting to FLAME")
        retarget = retarget or self.retarget
        expression, jaw = retarget.to_flame(articulation.arkit, articulation.jaw)
        model = self.describe()
        model["retarget"] = retarget.info
        curves = build_curves(
            fps=fps,
            arkit_weights=_rounded(articulation.arkit),
            flame_expression=_rounded(expression),
            flame_jaw=_rounded(articulation.jaw if jaw is None else jaw),
            instruction=instruction,
            segments=segments,
            transcript=analysis.alignment.transcript,
            phones=_phones_json(analysis),
            model=model,
            retarget=retarget.info,
        )
        progress(1.0, "done")
        return curves

    def _analyze(self, audio, transcript, fps, progress, cancel, share: float) -> SpeechAnalysis:
        _check_cancel(cancel)
        progress(0.05, "aligning phones" if transcript else "recognizing speech")
        analysis = self.front_end.analyze(audio, transcript, fps, cancel)
        _check_cancel(cancel)
        progress(share, "speech analysed")
        return analysis


def _check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise JobCancelled("cancelled by the user")


def _checked_segments(segments: list[dict], duration: float, fallback: str | None) -> list[dict]:
    """Per-segment instructions edited by the animator: sorted, clipped to the clip, never empty."""
    clean = []
    for seg in sorted(segments, key=lambda s: float(s["start"])):
        start, end = max(0.0, float(seg["start"])), min(duration, float(seg["end"]))
        text = str(seg.get("instruction") or fallback or "").strip()
        if end <= start:
            continue
        if not text:
            raise InputError(f"segment {start:.2f}-{end:.2f} s has no instruction text")
        clean.append({"start": start, "end": end, "instruction": text})
    if not clean:
        raise InputError("no segment overlaps the audio; re-run Analyze to get segments for this clip")
    return clean


def _phones_json(analysis: SpeechAnalysis) -> list[dict]:
    return [{"phone": p.phone, "start": round(p.start, 4), "end": round(p.end, 4)} for p in analysis.alignment.phones]


def _rounded(values: np.ndarray) -> list[list[float]]:
    # 5 decimals keeps files small without visible loss (shape-key precision is far coarser).
    return np.round(np.asarray(values, dtype=np.float64), 5).tolist()
