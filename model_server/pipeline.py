"""The talking-face pipeline: components in, curves out, like a diffusers pipeline.

    pipeline = TalkingFacePipeline.from_config(PipelineConfig())
    instruction = pipeline.instruct(audio, transcript)            # stage 1: instruction agent
    curves = pipeline(audio, transcript=..., instruction=...)     # stage 2: talking-face synthesis
    takes = pipeline.takes(audio, ..., samples=4, seed=3)         # 4 takes, seeds 3..6, one analysis

Synthesizers are chosen by name (`synthesis/registry.py`): the pipeline loads each one the first
time it is asked for and keeps it, so a process loads a model once. Swapping the baseline for the
learned model is one argument (`synthesis="learned"`, per pipeline or per call).
"""

from __future__ import annotations

import math
import threading
from typing import Any, Callable, Protocol

import numpy as np

from . import __version__
from .agent.reading import read_instruction
from .agent.replies import ReplyCallback
from .audio.front_end import SpeechFrontEnd
from .audio.types import Audio, Phone, SpeechAnalysis
from .cancel_scope import cancellable
from .config import DEFAULT_FPS, MAX_SEED, MAX_TAKES, PipelineConfig
from .curves import build_curves, check_layers
from .errors import InputError, JobCancelled
from .nonverbal.compose import AliveTake, NonverbalOptions, alive_take
from .nonverbal.listener import listening_take
from .nonverbal.motion_phrases import add_motion_phrases
from .nonverbal.options import checked_head_motion
from .retarget.arkit_to_flame import FlameRetarget
from .retarget.head_pose import flame_eye_poses, flame_neck_pose
from .synthesis import registry
from .synthesis.layers import layer_jaws

ProgressCallback = Callable[[float, str], None]


class InstructionAgent(Protocol):
    def instruct(self, analysis: SpeechAnalysis, on_reply: ReplyCallback | None = None) -> tuple[str, list[dict]]: ...
    def describe(self) -> dict: ...


class Synthesizer(Protocol):
    def synthesize(self, analysis: SpeechAnalysis, segments: list[dict], *, seed: int, fps: float,
                   guidance: float | None = None, sampled: bool = True, blinks: bool = True) -> Any: ...
    def describe(self) -> dict: ...


def _no_progress(fraction: float, stage: str) -> None:
    pass


class TalkingFacePipeline:
    def __init__(
        self,
        front_end: SpeechFrontEnd,
        agent: InstructionAgent,
        retarget: FlameRetarget,
        *,
        synthesis: str = registry.DEFAULT_SYNTHESIS,
        synthesizers: dict[str, Synthesizer] | None = None,
    ) -> None:
        """`synthesis` names the default synthesizer; `synthesizers` may hand over ready ones by name
        (a model just trained, say); any other name is loaded from the registry when first used."""
        self.front_end = front_end
        self.agent = agent
        self.retarget = retarget
        self.default_synthesis = synthesis
        self._synthesizers: dict[str, Synthesizer] = dict(synthesizers or {})
        self._synthesizers_lock = threading.Lock()

    @classmethod
    def from_config(cls, config: PipelineConfig) -> "TalkingFacePipeline":
        from .agent.registry import LazyAgent, load_agent

        agent = LazyAgent(config.agent, lambda: load_agent(config.agent, url=config.agent_url, model=config.agent_model,
                                                           lm=config.agent_lm, weights=config.agent_weights))
        if config.synthesis not in registry.SYNTHESIZERS:
            raise InputError(f"unknown synthesis model {config.synthesis!r}; "
                             f"available: {', '.join(registry.SYNTHESIZERS)}")
        retarget = FlameRetarget.from_flame_model(config.flame_model) if config.flame_model else FlameRetarget.default()
        return cls(SpeechFrontEnd(), agent, retarget, synthesis=config.synthesis)

    def synthesizer_named(self, name: str | None = None) -> Synthesizer:
        """The synthesizer called `name` (None: the default), loaded on first use and kept."""
        name = name or self.default_synthesis
        with self._synthesizers_lock:  # API requests and the job worker may ask at the same time
            if name not in self._synthesizers:
                self._synthesizers[name] = _load_synthesizer(name)
            return self._synthesizers[name]

    @property
    def synthesizer(self) -> Synthesizer:
        """The default synthesizer."""
        return self.synthesizer_named(None)

    @property
    def synthesis_models(self) -> list[str]:
        return list(registry.SYNTHESIZERS)

    def describe(self, synthesis: str | None = None) -> dict:
        """Names and versions of the components; a synthesizer not loaded yet is named, not loaded."""
        name = synthesis or self.default_synthesis
        with self._synthesizers_lock:
            loaded = self._synthesizers.get(name)
        return {
            "avi_talking": __version__,
            "front_end": self.front_end.describe(),
            "agent": self.agent.describe(),
            "synthesis": {"id": name, **(loaded.describe() if loaded is not None else {"loaded": False})},
            "retarget": self.retarget.info,
        }

    def instruct(
        self,
        audio: Audio,
        transcript: str | None = None,
        *,
        fps: float = DEFAULT_FPS,
        language: str = "en",
        progress: ProgressCallback = _no_progress,
        cancel: threading.Event | None = None,
    ) -> dict:
        """Stage 1: speech → editable visual instruction (whole clip and per segment).
        `language`: en, auto (detected from the speech) or another language code (languages.py)."""
        analysis = self._analyze(audio, transcript, fps, progress, cancel, share=0.7, language=language)
        progress(0.75, "writing instruction")
        instruction, segments = self.agent.instruct(analysis, _reply_progress(progress, cancel, 0.75, 1.0))
        segments = add_motion_phrases(analysis, segments)
        progress(1.0, "done")
        return {
            "instruction": instruction,
            "segments": segments,
            "transcript": analysis.alignment.transcript,
            "transcript_source": analysis.alignment.transcript_source,
            "language": analysis.alignment.language,
            "phoneme_source": analysis.alignment.phoneme_source,
            "clip": dict(zip(("start", "end"), audio.span)),
            "phones": _phones_json(analysis),
            "alignment_method": analysis.alignment.method,
        }

    def __call__(self, audio: Audio, **options: Any) -> dict:
        """Stage 2: speech + instruction → curves document (ARKit weights and FLAME curves): one take.

        Takes the keyword options of `takes` except `samples`."""
        return self.takes(audio, samples=1, **options)[0]

    def takes(
        self,
        audio: Audio,
        *,
        transcript: str | None = None,
        instruction: str | None = None,
        segments: list[dict] | None = None,
        seed: int = 0,
        samples: int = 1,
        guidance: float | None = None,
        synthesis: str | None = None,
        fps: float = DEFAULT_FPS,
        retarget: FlameRetarget | None = None,
        layers: bool = False,
        language: str = "en",
        nonverbal: NonverbalOptions | None = None,
        progress: ProgressCallback = _no_progress,
        cancel: threading.Event | None = None,
        read_by_meaning: bool = True,
    ) -> list[dict]:
        """Stage 2, `samples` times: one curves document per take, seeds seed, seed+1, …

        The speech is analysed once and the instruction written once. Take 1 is the instruction's
        typical style; takes 2.. vary it where the synthesizer samples (the learned model's style
        from its diffusion prior; the baseline's expression strength). Blinks follow each take's seed.
        `guidance` is the learned model's classifier-free guidance scale (None: its own default).
        `layers`: each document also carries the take as lips, expression, eyes and blinks layers that add up
        to it (nonverbal/compose.py).
        `language`: en, auto (detected from the speech) or another language code (audio/languages.py).
        `nonverbal`: the head-motion amount and the gaze target (nonverbal/compose.py); every take carries
        head and eye motion and an expression that moves with the voice.
        `read_by_meaning`: free text outside the grammar read by meaning (agent/reading.py); False reads with
        the grammar alone (the evaluation's comparison).
        """
        nonverbal = nonverbal or NonverbalOptions()
        checked_head_motion(nonverbal.head_motion)
        if not (0 < fps <= 240):
            raise InputError(f"fps must be between 0 and 240, got {fps}")
        if not (isinstance(samples, int) and 1 <= samples <= MAX_TAKES):
            raise InputError(f"samples (takes) must be between 1 and {MAX_TAKES}, got {samples}")
        if guidance is not None and not (math.isfinite(guidance) and guidance >= 0):
            raise InputError(f"guidance must be a number ≥ 0, got {guidance}")
        if not (isinstance(seed, int) and 0 <= seed <= MAX_SEED):
            raise InputError(f"seed must be a whole number from 0 to {MAX_SEED}, got {seed}")
        if segments:  # checked before the analysis: a bad segment costs no recognition
            segments = checked_segments(segments, audio.duration, instruction)
            instruction = instruction or segments[0]["instruction"]
        name = synthesis or self.default_synthesis
        synthesizer = self.synthesizer_named(name)  # an unknown or missing model fails before the analysis
        analysis = self._analyze(audio, transcript, fps, progress, cancel, share=0.5, language=language)
        if not segments and instruction and instruction.strip():
            segments = [{"start": 0.0, "end": audio.duration, "instruction": instruction.strip()}]
        elif not segments:
            progress(0.55, "writing instruction")
            instruction, segments = self.agent.instruct(analysis, _reply_progress(progress, cancel, 0.55, 0.6))
            segments = add_motion_phrases(analysis, segments)
        retarget = retarget or self.retarget
        model = self.describe(name)
        model["retarget"] = retarget.info
        # Each instruction as read (agent/reading.py): the synthesizers get what was understood, and every
        # document says how each segment's text was read and which of its words changed nothing.
        readings = [read_instruction(seg["instruction"], by_meaning=read_by_meaning) for seg in segments]
        read = [dict(seg, instruction=reading.read_as) for seg, reading in zip(segments, readings)]
        segments = [dict(seg, reading=reading.summary()) for seg, reading in zip(segments, readings)]
        documents = []
        for index in range(samples):
            _check_cancel(cancel)
            share = 0.6 + 0.4 * index / samples
            take = f" (take {index + 1} of {samples})" if samples > 1 else ""
            progress(share, "synthesizing motion" + take)
            with cancellable(cancel):  # the learned model checks it inside the prior and the text encoder
                alive = alive_take(synthesizer, analysis, read, seed=seed + index, fps=fps, guidance=guidance,
                                   sampled=index > 0, options=nonverbal)
            _check_cancel(cancel)
            progress(share + 0.3 / samples, "retargeting to FLAME" + take)
            record = dict(model, take={"index": index + 1, "seed": seed + index, "guidance": guidance,
                                       "style": "sampled" if index > 0 else "typical"})
            document = _curves_document(alive, retarget, analysis, instruction, segments, fps, record)
            if layers:
                add_layers(document, alive.layers, retarget)
            documents.append(document)
        progress(1.0, "done")
        return documents

    def listening(self, phones: list[Phone], segments: list[dict], duration: float, *, fps: float, seed: int = 0,
                  nonverbal: NonverbalOptions | None = None) -> dict:
        """A listener's curves document over another character's line, made from that line's phones and
        segments (nonverbal/listener.py): blinks, gaze on the speaker, nods, a closed mouth, an echo."""
        if not (0 < fps <= 240):
            raise InputError(f"fps must be between 0 and 240, got {fps}")
        nonverbal = nonverbal or NonverbalOptions()
        checked_head_motion(nonverbal.head_motion)
        take = listening_take(phones, segments, duration, fps=fps, seed=seed, options=nonverbal)
        model = {"avi_talking": __version__, "listener": {"name": "nonverbal-listener"}, "take": {"seed": seed}}
        expression, jaw = self.retarget.to_flame(take.arkit, take.jaw)
        return build_curves(
            fps=fps, arkit_weights=_rounded(take.arkit), flame_expression=_rounded(expression),
            flame_jaw=_rounded(take.jaw if jaw is None else jaw), instruction="", segments=[], transcript="",
            phones=[], model=model, retarget=self.retarget.info, **_motion_blocks(take))

    def _analyze(self, audio, transcript, fps, progress, cancel, share: float, language: str = "en") -> SpeechAnalysis:
        _check_cancel(cancel)
        progress(0.05, "aligning phones" if transcript else "recognizing speech")

        def within(fraction: float, stage: str) -> None:  # alignment runs from 5 % to most of `share`
            progress(0.05 + (share - 0.1) * fraction, stage)

        analysis = self.front_end.analyze(audio, transcript, fps, cancel, language=language, progress=within)
        _check_cancel(cancel)
        progress(share, "speech analysed")
        return analysis


def _curves_document(articulation: AliveTake, retarget: FlameRetarget, analysis: SpeechAnalysis, instruction: str,
                     segments: list[dict], fps: float, model: dict) -> dict:
    expression, jaw = retarget.to_flame(articulation.arkit, articulation.jaw)
    return build_curves(
        **_motion_blocks(articulation),
        fps=fps,
        arkit_weights=_rounded(articulation.arkit),
        flame_expression=_rounded(expression),
        flame_jaw=_rounded(articulation.jaw if jaw is None else jaw),
        instruction=instruction,
        segments=segments,
        transcript=analysis.alignment.transcript,
        transcript_source=analysis.alignment.transcript_source,
        language=analysis.alignment.language,
        phoneme_source=analysis.alignment.phoneme_source,
        clip=analysis.audio.span,
        phones=_phones_json(analysis),
        model=model,
        retarget=retarget.info,
    )


def _motion_blocks(take: AliveTake) -> dict:
    """The head and eye blocks of a curves document, and FLAME's neck and eye poses."""
    return {"head": {"rotation": _rounded(take.head_rotation), "translation": _rounded(take.head_translation)},
            "eyes": {"left": _rounded(take.left_eye), "right": _rounded(take.right_eye)},
            "flame_neck": _rounded(flame_neck_pose(take.head_rotation)),
            "flame_eyes": _rounded(flame_eye_poses(take.left_eye, take.right_eye))}


def add_layers(document: dict, arkit_layers: dict, retarget: FlameRetarget) -> None:
    """`arkit.layers` and `flame.layers` of a curves document: the take's curves as layers that add up."""
    jaws = layer_jaws(arkit_layers)
    document["arkit"]["layers"] = {name: _rounded(weights) for name, weights in arkit_layers.items()}
    document["flame"]["layers"] = {}
    for name, weights in arkit_layers.items():
        expression, jaw = retarget.to_flame(weights, jaws[name])
        document["flame"]["layers"][name] = {"expression": _rounded(expression), "jaw": _rounded(jaw)}
    check_layers(document)  # the rest was validated when the document was built


def _load_synthesizer(name: str) -> Synthesizer:
    try:
        return registry.load_synthesizer(name)
    except InputError:
        raise
    except Exception as exc:  # weights not installed, or a model that cannot run here: the user can pick another
        raise InputError(f"synthesis model {name!r} cannot be loaded ({type(exc).__name__}: {exc}); "
                         f"available: {', '.join(registry.SYNTHESIZERS)}") from exc


def _reply_progress(progress: ProgressCallback, cancel: threading.Event | None, start: float,
                    end: float) -> ReplyCallback:
    """Called by an agent before each piece of its work (a reply, or a pass over all replies) with the
    replies done so far: a long dialogue shows how far it is and can be cancelled in between."""
    def on_reply(done: int, total: int) -> None:
        _check_cancel(cancel)
        progress(start + (end - start) * done / max(total, 1), f"writing instructions: {done} of {total} done")
    return on_reply


def _check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise JobCancelled("cancelled by the user")


MAX_SEGMENTS = 500  # a segment every 3.6 s of the 30-minute limit; the models need no more


def checked_segments(segments: list[dict], duration: float, fallback: str | None) -> list[dict]:
    """Per-segment instructions edited by the animator: sorted, clipped to the clip, never empty."""
    if len(segments) > MAX_SEGMENTS:
        raise InputError(f"{len(segments)} segments; at most {MAX_SEGMENTS} per request (split the line)")
    clean = []
    for seg in sorted(segments, key=lambda s: float(s["start"])):
        if not (math.isfinite(float(seg["start"])) and math.isfinite(float(seg["end"]))):
            raise InputError(f"segment times must be numbers, got {seg['start']} to {seg['end']}")
        start, end = max(0.0, float(seg["start"])), min(duration, float(seg["end"]))
        text = str(seg.get("instruction") or fallback or "").strip()
        if end <= start:
            continue
        if not text:
            raise InputError(f"segment {start:.2f}-{end:.2f} s has no instruction text")
        clean.append({"start": start, "end": end, "instruction": text})
    if not clean:
        raise InputError(f"no segment overlaps the audio (0-{duration:.2f} s); re-run Analyze to get segments "
                         f"for this clip")
    return clean


def _phones_json(analysis: SpeechAnalysis) -> list[dict]:
    return [{"phone": p.phone, "start": round(p.start, 4), "end": round(p.end, 4)} for p in analysis.alignment.phones]


def _rounded(values: np.ndarray) -> list[list[float]]:
    # 5 decimals keeps files small without visible loss (shape-key precision is far coarser).
    return np.round(np.asarray(values, dtype=np.float64), 5).tolist()
