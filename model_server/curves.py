"""The curves file: the one format that carries animation from the model process to Blender.

Defined here once and documented in docs/curves-format.md. Stdlib only, because the Blender add-on
imports this module (bundled inside the extension) to read exactly what the server writes.

    {
      "format": "avi-talking.curves", "version": 1,
      "fps": 25.0, "num_frames": T,               # frame i samples time i / fps
      "flame": {"expression": T x 50, "jaw": T x 3 (axis-angle, radians), "retarget": {...}},
      "arkit": {"names": [52 ARKit names], "weights": T x 52,
                "layers": {"lips", "expression", "blinks": T x 52}},   # optional; the layers add up to weights
                                                      # (flame.layers: the same, each {expression, jaw})
      "instruction": "...", "segments": [{"start", "end", "instruction"}],
      "transcript": "...", "transcript_source": "given" | "recognized", "phones": [{"phone", "start", "end"}],
      "language": "en", "phoneme_source": "pocketsphinx" | "espeak-ng",   # optional (files before them: en, pocketsphinx)
      "clip": {"start", "end"},                       # seconds into the audio file that frame 0 and the end are
      "model": {"front_end": ..., "agent": ..., "synthesis": ..., "retarget": ..., "take": {index, seed, guidance}},
      "takes": [...]                                  # API animate results only: every take's document
    }
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .arkit import ARKIT_NAMES, FLAME_EXPRESSION_DIM, FLAME_JAW_DIM

FORMAT = "avi-talking.curves"
VERSION = 1
TRANSCRIPT_SOURCES = ("given", "recognized")  # the dialogue text, or the words the recogniser heard
PHONEME_SOURCES = ("pocketsphinx", "espeak-ng")  # English dictionary pronunciations, or eSpeak NG's (any language)
LAYERS = ("lips", "expression", "eyes", "blinks")  # optional layers of a take, adding up to its weights
LEGACY_LAYERS = ("lips", "expression", "blinks")  # files written before the eyes layer
EYE_POSE_DIM = 2  # yaw, pitch radians of one eye
FLAME_NECK_DIM, FLAME_EYES_DIM = 3, 6  # FLAME's neck axis-angle; both eyes' axis-angles, left then right


class CurvesFormatError(ValueError):
    """The file is not a curves file this version can read; the message says what is wrong."""


def num_frames_for(duration_s: float, fps: float) -> int:
    """Frames that cover the whole clip: frame i samples time i / fps."""
    return max(1, int(math.ceil(duration_s * fps - 1e-6)))


def build_curves(
    *,
    fps: float,
    arkit_weights: list[list[float]],
    flame_expression: list[list[float]],
    flame_jaw: list[list[float]],
    instruction: str,
    segments: list[dict[str, Any]],
    transcript: str,
    phones: list[dict[str, Any]],
    transcript_source: str = "given",
    language: str = "en",
    phoneme_source: str = "pocketsphinx",
    clip: tuple[float, float] | None = None,
    model: dict[str, Any],
    retarget: dict[str, Any] | None = None,
    head: dict[str, list[list[float]]] | None = None,
    eyes: dict[str, list[list[float]]] | None = None,
    flame_neck: list[list[float]] | None = None,
    flame_eyes: list[list[float]] | None = None,
) -> dict[str, Any]:
    """Assemble a curves document from plain lists and check it before it leaves the process.
    `head` ({rotation, translation}), `eyes` ({left, right}) and FLAME's neck and eye poses are optional."""
    curves = {
        "format": FORMAT,
        "version": VERSION,
        "fps": float(fps),
        "num_frames": len(arkit_weights),
        "flame": {
            "expression": flame_expression,
            "jaw": flame_jaw,
            "retarget": retarget or {},
        },
        "arkit": {"names": list(ARKIT_NAMES), "weights": arkit_weights},
        "instruction": instruction,
        "segments": segments,
        "transcript": transcript,
        "transcript_source": transcript_source,
        "language": language,
        "phoneme_source": phoneme_source,
        "phones": phones,
        "clip": {"start": float(clip[0]), "end": float(clip[1])} if clip else None,
        "model": model,
    }
    if head is not None:
        curves["head"] = head
    if eyes is not None:
        curves["eyes"] = eyes
    if flame_neck is not None:
        curves["flame"]["neck"] = flame_neck
    if flame_eyes is not None:
        curves["flame"]["eyes"] = flame_eyes
    validate_curves(curves)
    return curves


def _check_matrix(value: Any, rows: int, cols: int, where: str) -> None:
    if not isinstance(value, list) or len(value) != rows:
        raise CurvesFormatError(f"{where}: expected {rows} frames, got {len(value) if isinstance(value, list) else type(value).__name__}")
    for i, row in enumerate(value):
        if not isinstance(row, list) or len(row) != cols:
            raise CurvesFormatError(f"{where}[{i}]: expected {cols} values per frame")
        for x in row:
            if not isinstance(x, (int, float)) or isinstance(x, bool) or not math.isfinite(x):
                raise CurvesFormatError(f"{where}[{i}]: values must be finite numbers")


def validate_curves(curves: Any) -> None:
    """Raise CurvesFormatError with a precise message unless `curves` is a valid curves document."""
    if not isinstance(curves, dict):
        raise CurvesFormatError("curves file must be a JSON object")
    if curves.get("format") != FORMAT:
        raise CurvesFormatError(f"not a curves file: format is {curves.get('format')!r}, expected {FORMAT!r}")
    if curves.get("version") != VERSION:
        raise CurvesFormatError(f"curves version {curves.get('version')!r} is not supported (this reader knows {VERSION})")
    fps = curves.get("fps")
    if not isinstance(fps, (int, float)) or not fps > 0:
        raise CurvesFormatError("fps must be a positive number")
    frames = curves.get("num_frames")
    if not isinstance(frames, int) or frames < 1:
        raise CurvesFormatError("num_frames must be a positive integer")
    flame = curves.get("flame")
    arkit = curves.get("arkit")
    if not isinstance(flame, dict) or not isinstance(arkit, dict):
        raise CurvesFormatError("curves file needs 'flame' and 'arkit' objects")
    _check_matrix(flame.get("expression"), frames, FLAME_EXPRESSION_DIM, "flame.expression")
    _check_matrix(flame.get("jaw"), frames, FLAME_JAW_DIM, "flame.jaw")
    if list(arkit.get("names", [])) != list(ARKIT_NAMES):
        raise CurvesFormatError("arkit.names must list the 52 ARKit blendshape names in ARKit order")
    _check_matrix(arkit.get("weights"), frames, len(ARKIT_NAMES), "arkit.weights")
    for key in ("instruction", "transcript"):
        if not isinstance(curves.get(key), str):
            raise CurvesFormatError(f"{key} must be a string")
    if curves.get("transcript_source", "given") not in TRANSCRIPT_SOURCES:  # absent in files before it existed
        raise CurvesFormatError(f"transcript_source must be one of {', '.join(TRANSCRIPT_SOURCES)}")
    if not isinstance(curves.get("language", "en"), str) or curves.get("phoneme_source", "pocketsphinx") not in \
            PHONEME_SOURCES:  # both absent in files before they existed
        raise CurvesFormatError(f"language must be a code and phoneme_source one of {', '.join(PHONEME_SOURCES)}")
    for seg in curves.get("segments", None) or []:
        if not (isinstance(seg, dict) and {"start", "end", "instruction"} <= seg.keys()):
            raise CurvesFormatError("each segment needs start, end and instruction")
    if not isinstance(curves.get("segments"), list) or not isinstance(curves.get("phones"), list):
        raise CurvesFormatError("segments and phones must be lists")
    for phone in curves["phones"]:
        if not (isinstance(phone, dict) and {"phone", "start", "end"} <= phone.keys()):
            raise CurvesFormatError("each phone needs phone, start and end")
    clip = curves.get("clip")  # absent in files before it existed: the whole file, from 0 s
    if clip is not None and not (isinstance(clip, dict) and all(
            isinstance(clip.get(k), (int, float)) and math.isfinite(clip[k]) for k in ("start", "end"))):
        raise CurvesFormatError("clip must be {start, end} in seconds")
    check_layers(curves)
    _check_head_and_eyes(curves)
    if not isinstance(curves.get("model"), dict):
        raise CurvesFormatError("model must be an object naming what produced the curves")


def _check_head_and_eyes(curves: dict) -> None:
    """The optional head and eye motion: head {rotation, translation} T × 3, eyes {left, right} T × 2,
    FLAME's neck T × 3 and eyes T × 6. Files written before them have none."""
    frames = curves["num_frames"]
    head, eyes = curves.get("head"), curves.get("eyes")
    if head is not None:
        if not isinstance(head, dict):
            raise CurvesFormatError("head must be {rotation, translation}")
        _check_matrix(head.get("rotation"), frames, 3, "head.rotation")
        _check_matrix(head.get("translation"), frames, 3, "head.translation")
    if eyes is not None:
        if not isinstance(eyes, dict):
            raise CurvesFormatError("eyes must be {left, right}")
        _check_matrix(eyes.get("left"), frames, EYE_POSE_DIM, "eyes.left")
        _check_matrix(eyes.get("right"), frames, EYE_POSE_DIM, "eyes.right")
    for key, dim in (("neck", FLAME_NECK_DIM), ("eyes", FLAME_EYES_DIM)):
        if curves["flame"].get(key) is not None:
            _check_matrix(curves["flame"][key], frames, dim, f"flame.{key}")


def check_layers(curves: dict) -> None:
    """Optional layers (lips, expression, eyes, blinks; files before the eyes layer: lips, expression,
    blinks) that add up to the weights; absent unless asked for.
    (Part of `validate_curves`; on its own for a document already validated without them.)"""
    frames = curves["num_frames"]
    arkit_layers, flame_layers = curves["arkit"].get("layers"), curves["flame"].get("layers")
    if arkit_layers is None and flame_layers is None:
        return
    names = list(arkit_layers) if isinstance(arkit_layers, dict) else []
    if not (isinstance(flame_layers, dict) and names in (list(LAYERS), list(LEGACY_LAYERS))
            and names == list(flame_layers)):
        raise CurvesFormatError(f"arkit.layers and flame.layers must both hold {', '.join(LAYERS)}")
    for name in names:
        _check_matrix(arkit_layers[name], frames, len(ARKIT_NAMES), f"arkit.layers.{name}")
        layer = flame_layers[name]
        if not isinstance(layer, dict):
            raise CurvesFormatError(f"flame.layers.{name} must be {{expression, jaw}}")
        _check_matrix(layer.get("expression"), frames, FLAME_EXPRESSION_DIM, f"flame.layers.{name}.expression")
        _check_matrix(layer.get("jaw"), frames, FLAME_JAW_DIM, f"flame.layers.{name}.jaw")


def save_curves(curves: dict[str, Any], path: str | Path) -> None:
    validate_curves(curves)
    Path(path).write_text(json.dumps(curves, separators=(",", ":")), encoding="utf-8")


def load_curves(path: str | Path) -> dict[str, Any]:
    try:
        curves = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CurvesFormatError(f"cannot read curves file {path}: {exc}") from exc
    validate_curves(curves)
    return curves


def reading_sentence(reading: dict) -> str:
    """'read as angry (very) by meaning (nearest "livid"); changed nothing: pirate': a segment's `reading`
    (agent/reading.py) in words, for the panel, the report and the command line."""
    if reading.get("by") == "nothing" or reading.get("emotion", "neutral") == "neutral":
        what = "neutral"
    else:
        what = f"{reading['emotion']} ({ {1: 'slightly', 2: 'fairly', 3: 'very'}.get(reading.get('intensity'), '') })"
    how = f" by meaning (nearest \"{reading.get('nearest')}\")" if reading.get("by") == "meaning" else \
        " (nothing in it was understood)" if reading.get("by") == "nothing" else ""
    unused = f"; changed nothing: {', '.join(reading['unused'][:8])}" if reading.get("unused") else ""
    return f"read as {what}{how}{unused}"
