"""The learned stage 2 of AVI-Talking as a pipeline component.

    instruction ─┬─ SentenceEncoder ─┬─ InstructionProjector ─┐
                 │                   └────────────────────────┤
                 └─ grammar parser: controls ─────────────────┴─ DiffusionPrior ─→ style code (per segment, per seed)
                                                              └─ TypicalStyleHead ─→ style code (take 1)
                                                                                        │
    speech ─ phones + prosody ─ ContentEncoder ─→ content ─→ MotionDecoder ←───────────┘ → expression ─┐
    speech + the instruction's controls ─ the rules' articulation (rule_lips.py) ─→ lips ──────────────┴→ ARKit weights

The lips are the rules' (rule_lips.py): the content path gives the articulation's full excursions and exact
timing, /p b m/ closed on the scene's frames, and the decoder everything else (the expression).

Take 1 of a request is the instruction's typical style (the expected style code); later takes are
the prior's draws, one per seed, the varied readings of the same instruction.

The model runs at 25 fps (the paper's rate); other frame rates are resampled from it. Long clips
are decoded in overlapping windows that are crossfaded, so memory stays bounded and there are no
seams (the networks are convolutional with a finite receptive field, narrower than the overlap).
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from ..arkit import ARKIT_INDEX
from ..audio.prosody import prosody_at
from ..audio.types import SpeechAnalysis
from ..curves import num_frames_for
from ..errors import InputError
from .baseline import Articulation
from .blinks import blink_curve
from .content_features import content_features
from .diffusion_prior import DiffusionPrior, DiffusionPriorConfig
from .instruction_controls import instruction_controls
from .jaw import jaw_pose_from_arkit
from .rule_lips import with_rule_lips
from .style_content_model import StyleContentConfig, StyleContentModel
from .style_layer import segment_weights
from .text_encoder import SentenceEncoder
from .typical_style import TypicalStyleConfig, TypicalStyleHead

MODEL_FPS = 25.0
WINDOW_FRAMES = 750  # 30 s per window keeps memory flat for hour-long clips
RAMP_FRAMES = 20  # windows hand over across 0.8 s
# Style codes are blended between segments over this long: the decoder's response to a code change
# is sharper than the rule-based layer's, so it needs a longer ease than style_layer.CROSSFADE_S.
STYLE_CROSSFADE_S = 0.8
CONFIG_FILE, MODEL_FILE, PRIOR_FILE = "config.json", "style_content.safetensors", "prior.safetensors"
TYPICAL_FILE = "typical_style.safetensors"
SAMPLED_STYLES_KEPT = 64  # (instructions, seed, guidance) → sampled style codes, a few kB each


def on_one_thread(method):
    """Run a method of the networks on one torch thread, then give the process back its own count.

    One thread: the networks are small, and extra threads lose more to synchronisation than they gain,
    badly so when Blender or a second job shares the cores (measured: 9 ms vs 0.5 s per step). Given back
    after: torch's count holds for the calling thread (the server's job thread) and for threads started
    later, and the agent's language model in that thread needs both cores (1.5 s against 2.1 s for a
    12 s line's instruction once the count had been left at one)."""
    @functools.wraps(method)
    def on_one(*args, **kwargs):
        previous = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return method(*args, **kwargs)
        finally:
            torch.set_num_threads(previous)
    return on_one


def save_weights(out: Path, model: StyleContentModel, prior: DiffusionPrior, head: TypicalStyleHead,
                 training: dict, log: list[dict]) -> None:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, out / MODEL_FILE)
    save_file({k: v.contiguous() for k, v in prior.net.state_dict().items()}, out / PRIOR_FILE)
    save_file({k: v.contiguous() for k, v in head.state_dict().items()}, out / TYPICAL_FILE)
    config = {"style_content": model.cfg.to_dict(), "prior": prior.cfg.to_dict(),
              "typical_style": head.cfg.to_dict(), "fps": MODEL_FPS, "text_encoder": SentenceEncoder.name,
              "training": training}
    (out / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
    (out / "training_log.jsonl").write_text("".join(json.dumps(e) + "\n" for e in log))


class LearnedSynthesizer:
    name = "avi-talking-stage2"

    def __init__(self, model: StyleContentModel, prior: DiffusionPrior, typical: TypicalStyleHead,
                 text_encoder: SentenceEncoder, info: dict) -> None:
        self.model = model.eval()
        self.prior = prior.eval()
        self.typical = typical.eval()
        self.text_encoder = text_encoder
        self.info = info
        self._sampled_styles: dict[tuple, np.ndarray] = {}  # oldest first

    @classmethod
    def load(cls, weights_dir: Path) -> "LearnedSynthesizer":
        weights_dir = Path(weights_dir)
        if not (weights_dir / CONFIG_FILE).exists():
            raise InputError(f"no learned synthesis weights in {weights_dir}; train them with "
                             "python -m model_server.train.train_synthesis, or use --synthesis baseline")
        config = json.loads((weights_dir / CONFIG_FILE).read_text())
        model = StyleContentModel(StyleContentConfig.from_dict(config["style_content"]))
        model.load_state_dict(load_file(weights_dir / MODEL_FILE))
        prior = DiffusionPrior(DiffusionPriorConfig.from_dict(config["prior"]))
        prior.net.load_state_dict(load_file(weights_dir / PRIOR_FILE))
        if "typical_style" not in config:
            raise InputError(f"the weights in {weights_dir} predate the typical-style head (take 1); retrain them with "
                             "python -m model_server.train.train_synthesis --stage-a-from DIR")
        typical = TypicalStyleHead(TypicalStyleConfig.from_dict(config["typical_style"]))
        typical.load_state_dict(load_file(weights_dir / TYPICAL_FILE))
        info = {"weights": weights_dir.name, "metrics": config.get("training", {}).get("metrics", {}),
                "text_encoder": config["text_encoder"], "lips": "rules (rule_lips.py)"}
        return cls(model, prior, typical, SentenceEncoder(), info)

    def describe(self) -> dict:
        return {"name": self.name, "kind": "learned", **self.info}

    @property
    def default_guidance(self) -> float:
        return self.prior.cfg.default_guidance

    # Instruction side -------------------------------------------------------------------------

    @on_one_thread
    @torch.inference_mode()
    def encode_instructions(self, texts: list[str]) -> np.ndarray:
        """(N, style_dim) instruction embeddings projected into the style space (unit norm)."""
        return self.model.instruction_projector(torch.from_numpy(self.text_encoder.encode(texts))).numpy()

    @on_one_thread
    @torch.inference_mode()
    def encode_motion_styles(self, motions: list[np.ndarray]) -> np.ndarray:
        """(N, style_dim) style codes of ARKit motions at 25 fps (unit norm)."""
        return torch.cat([self.model.style_encoder(torch.from_numpy(np.asarray(m, np.float32))[None])
                          for m in motions]).numpy()

    def _prior_condition(self, instructions: list[str]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """What the diffusion prior reads of each instruction: text embedding, its projection, parsed controls."""
        text = torch.from_numpy(self.text_encoder.encode(instructions))
        return text, self.model.instruction_projector(text), torch.from_numpy(instruction_controls(instructions))

    @on_one_thread
    @torch.inference_mode()
    def typical_style_codes(self, instructions: list[str]) -> np.ndarray:
        """(S, style_dim) the expected style of each instruction (take 1)."""
        text, _, controls = self._prior_condition(instructions)
        return self.typical(text, controls).numpy()

    @on_one_thread
    @torch.inference_mode()
    def sample_style_codes(self, instruction: str, n: int, *, seed: int, guidance: float | None = None) -> np.ndarray:
        """(n, style_dim) styles the diffusion prior draws for one instruction."""
        generator = torch.Generator().manual_seed(int(seed))
        return self.prior.sample(*self._prior_condition([instruction] * n), guidance=guidance,
                                 generator=generator).numpy()

    def segment_style_codes(self, instructions: list[str], *, seed: int, guidance: float | None = None) -> np.ndarray:
        """(S, style_dim) one style per segment, sampled together (one prior pass for any number of
        segments). Each segment's starting noise has its own seed, so rewriting one segment's
        instruction leaves the other segments' styles as they were.

        Kept for the same instructions, seed and guidance: the prior's 100 steps are most of a
        generation's time, and an animator regenerating the same take (another fps, another edit of
        the dialogue text) gets the same style anyway."""
        # Keyed by a hash: the instructions themselves may be long, and the cache keeps SAMPLED_STYLES_KEPT keys.
        key = (hashlib.sha256("\x00".join(instructions).encode("utf-8", "surrogatepass")).digest(), len(instructions),
               int(seed), guidance)
        if key not in self._sampled_styles:
            if len(self._sampled_styles) >= SAMPLED_STYLES_KEPT:
                self._sampled_styles.pop(next(iter(self._sampled_styles)))
            self._sampled_styles[key] = self._sample_segment_styles(instructions, seed=seed, guidance=guidance)
        return self._sampled_styles[key].copy()

    @on_one_thread
    @torch.inference_mode()
    def _sample_segment_styles(self, instructions: list[str], *, seed: int, guidance: float | None) -> np.ndarray:
        initial = torch.cat([torch.randn(1, self.model.cfg.style_dim, generator=torch.Generator().manual_seed(seed + 1000 * i))
                             for i in range(len(instructions))])
        generator = torch.Generator().manual_seed(int(seed))
        return self.prior.sample(*self._prior_condition(instructions), guidance=guidance, generator=generator,
                                 initial=initial).numpy()

    # Motion side ------------------------------------------------------------------------------

    @on_one_thread
    @torch.inference_mode()
    def decode(self, content: np.ndarray, style: np.ndarray) -> np.ndarray:
        """(T, 52) ARKit weights in [0, 1] from (T, 44) content features and a (style_dim,) or (T, style_dim) style."""
        frames = len(content)
        style = np.broadcast_to(style, (frames, style.shape[-1])) if style.ndim == 1 else style
        out = np.zeros((frames, self.model.cfg.motion_channels), np.float32)
        total = np.zeros(frames, np.float32)
        for start, stop, weight in _windows(frames, self.model.cfg.receptive_field()):
            window = self.model(torch.from_numpy(np.ascontiguousarray(content[start:stop]))[None],
                                torch.from_numpy(np.ascontiguousarray(style[start:stop], dtype=np.float32))[None])[0]
            out[start:stop] += window.numpy() * weight[:, None]
            total[start:stop] += weight
        return np.clip(out / total[:, None], 0.0, 1.0)

    def synthesize(self, analysis: SpeechAnalysis, segments: list[dict], *, seed: int, fps: float,
                   guidance: float | None = None, sampled: bool = True, blinks: bool = True) -> Articulation:
        """`sampled`: each segment's style drawn by the prior from `seed` (False: its typical style)."""
        audio = analysis.audio
        prosody = prosody_at(analysis, MODEL_FPS)
        content = content_features(analysis.alignment.phones, prosody)  # (T25, 44)
        frames = len(content)
        instructions = [seg["instruction"] for seg in segments]
        codes = (self.segment_style_codes(instructions, seed=seed, guidance=guidance) if sampled
                 else self.typical_style_codes(instructions))
        per_frame = segment_weights(segments, frames, MODEL_FPS, STYLE_CROSSFADE_S) @ codes  # (T25, style_dim), crossfaded
        per_frame /= np.maximum(np.linalg.norm(per_frame, axis=1, keepdims=True), 1e-6)
        face = _resample(self.decode(content, per_frame.astype(np.float32)), num_frames_for(audio.duration, fps), fps)
        # The decoder's own lips are a blurred copy of the rules' (it learned their motion): the rules'
        # articulation takes their place, already closed at /p b m/ on the scene's frames.
        arkit = with_rule_lips(face, analysis, segments, seed=seed, fps=fps)
        if blinks:
            blink = blink_curve(audio.duration, len(arkit), fps, analysis.alignment.phones, seed)
            for name in ("eyeBlinkLeft", "eyeBlinkRight"):
                arkit[:, ARKIT_INDEX[name]] = np.maximum(arkit[:, ARKIT_INDEX[name]], blink)
        return Articulation(arkit=arkit, jaw=jaw_pose_from_arkit(arkit))


def _windows(frames: int, reach: int, window: int = WINDOW_FRAMES, ramp: int = RAMP_FRAMES):
    """(start, stop, weight) windows covering [0, frames) whose weights sum to 1 on every frame.

    Neighbouring windows overlap by 2 * reach + ramp frames and hand over inside the middle `ramp`
    frames only, where both have `reach` frames of real context on each side (reach = the
    network's receptive field), so the result equals decoding the whole clip in one go.
    """
    overlap = 2 * reach + ramp
    if frames <= window:
        yield 0, frames, np.ones(frames, np.float32)
        return
    step = window - overlap
    starts = list(range(0, frames - overlap, step))
    fade_in = np.concatenate([np.zeros(reach), np.linspace(0, 1, ramp + 2)[1:-1], np.ones(reach)]).astype(np.float32)
    for i, start in enumerate(starts):
        stop = min(frames, start + window)
        weight = np.ones(stop - start, np.float32)
        if i > 0:
            weight[:overlap] = fade_in
        if i < len(starts) - 1:
            weight[-overlap:] = 1.0 - fade_in
        yield start, stop, weight


def _resample(values: np.ndarray, frames: int, fps: float) -> np.ndarray:
    """25 fps curves → `frames` frames at `fps` (frame i is time i / fps), linearly interpolated."""
    if frames == len(values) and abs(fps - MODEL_FPS) < 1e-9:
        return values
    source = np.arange(len(values)) / MODEL_FPS
    target = np.arange(frames) / fps
    return np.stack([np.interp(target, source, values[:, c]) for c in range(values.shape[1])], axis=1).astype(np.float32)
