"""The CSV layout of Epic's Live Link Face app, which Unreal (MetaHuman), Maya and Houdini importers read.

One row per frame: `Timecode` (HH:MM:SS:FF.mmm, FF counted at the take's frame rate, .mmm the
sub-frame in thousandths), `BlendShapeCount` (61), the 52 ARKit weights under the app's PascalCase
names in the app's order, then head and eye rotations (HeadYaw, HeadPitch, HeadRoll, LeftEyeYaw, …) in
radians, with the app's signs: yaw + turns to the speaker's left, pitch + looks down (as a public Live Link
Face recording shows: eyeLookDown 0.28 with eye pitch +0.171, the left eye looking in with yaw -0.031),
roll + tilts toward the speaker's right shoulder (the same right-handed frame; not checked against a
recording). Curves files carry them as `head` and `eyes` (nonverbal/head.py, gaze.py); eye roll is 0.
Stdlib only: the Blender add-on imports this module.
"""

from __future__ import annotations

import csv
import io
import math
from array import array
from dataclasses import dataclass

from .arkit import ARKIT_NAMES
from .nonverbal.behaviour import EYE_LOOK_PITCH_RAD, EYE_LOOK_YAW_RAD

# The app's column order (it differs from ARKit's own order of the 52 names).
LIVE_LINK_SHAPES = (
    "EyeBlinkLeft", "EyeLookDownLeft", "EyeLookInLeft", "EyeLookOutLeft", "EyeLookUpLeft", "EyeSquintLeft",
    "EyeWideLeft", "EyeBlinkRight", "EyeLookDownRight", "EyeLookInRight", "EyeLookOutRight", "EyeLookUpRight",
    "EyeSquintRight", "EyeWideRight", "JawForward", "JawRight", "JawLeft", "JawOpen", "MouthClose", "MouthFunnel",
    "MouthPucker", "MouthRight", "MouthLeft", "MouthSmileLeft", "MouthSmileRight", "MouthFrownLeft",
    "MouthFrownRight", "MouthDimpleLeft", "MouthDimpleRight", "MouthStretchLeft", "MouthStretchRight",
    "MouthRollLower", "MouthRollUpper", "MouthShrugLower", "MouthShrugUpper", "MouthPressLeft", "MouthPressRight",
    "MouthLowerDownLeft", "MouthLowerDownRight", "MouthUpperUpLeft", "MouthUpperUpRight", "BrowDownLeft",
    "BrowDownRight", "BrowInnerUp", "BrowOuterUpLeft", "BrowOuterUpRight", "CheekPuff", "CheekSquintLeft",
    "CheekSquintRight", "NoseSneerLeft", "NoseSneerRight", "TongueOut",
)
ROTATIONS = ("HeadYaw", "HeadPitch", "HeadRoll", "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
             "RightEyeYaw", "RightEyePitch", "RightEyeRoll")
HEADER = ("Timecode", "BlendShapeCount") + LIVE_LINK_SHAPES + ROTATIONS
_ARKIT_FOR = {name.lower(): name for name in ARKIT_NAMES}


class LiveLinkFormatError(ValueError):
    """Not a Live Link Face CSV this reader understands; the message says what is wrong."""


def arkit_name(column: str) -> str:
    """The ARKit name of a Live Link column ("MouthSmileLeft" → "mouthSmileLeft")."""
    return _ARKIT_FOR[column.lower()]


def timecode(frame: int, fps: float) -> str:
    """HH:MM:SS:FF.mmm of `frame` at `fps` (FF whole frames within the second, .mmm the fraction)."""
    seconds = frame / fps
    whole = int(math.floor(seconds + 1e-9))
    within = (seconds - whole) * fps
    frames = int(math.floor(within + 1e-6))
    return (f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}:{frames:02d}."
            f"{int(round((within - frames) * 1000)) % 1000:03d}")


def parse_timecode(text: str) -> tuple[int, float]:
    """(whole seconds, frames within the second, with the sub-frame) of a HH:MM:SS:FF(.mmm) timecode."""
    try:
        hours, minutes, seconds, frames = text.strip().split(":")
        whole = int(hours) * 3600 + int(minutes) * 60 + int(seconds)
        within = float(frames)
    except ValueError as exc:
        raise LiveLinkFormatError(f"timecode {text[:40]!r} is not HH:MM:SS:FF.mmm") from exc
    if not math.isfinite(within) or within < 0 or whole < 0 or len(text) > 40:
        raise LiveLinkFormatError(f"timecode {text[:40]!r} is not HH:MM:SS:FF.mmm")
    return whole, within


def timecode_rate(stamps: list[tuple[int, float]]) -> float | None:
    """The frame rate a take's timecodes count at: the frames field runs 0 … rate − 1 within each second,
    so a take that crosses a whole second shows it (None for a take shorter than that)."""
    seconds = [whole for whole, _ in stamps]
    if len(set(seconds)) < 3:  # a whole second between its first and last: the field has run its course
        return None
    inner = [int(within) for whole, within in stamps if seconds[0] < whole < seconds[-1]]
    return float(max(inner) + 1) if inner else None


def write_live_link_csv(weights_by_frame: list[dict[str, float]], fps: float,
                        rotations_by_frame: list[dict[str, float]] | None = None) -> str:
    """CSV text: one row per frame of `{ARKit name: weight}` (missing names are 0), from time 0, and of
    `{rotation column: radians}` (HeadYaw, LeftEyePitch, …; missing ones are 0)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for index, weights in enumerate(weights_by_frame):
        turns = rotations_by_frame[index] if rotations_by_frame else {}
        row = [timecode(index, fps), len(LIVE_LINK_SHAPES) + len(ROTATIONS)]
        row += [f"{float(weights.get(arkit_name(column), 0.0)):.6f}" for column in LIVE_LINK_SHAPES]
        writer.writerow(row + [f"{float(turns.get(column, 0.0)):.6f}" for column in ROTATIONS])
    return out.getvalue()


def curves_rotations(curves: dict) -> list[dict[str, float]] | None:
    """Per frame, the Live Link rotation columns of a curves document's head and eyes (None without them)."""
    head, eyes = curves.get("head"), curves.get("eyes")
    if head is None and eyes is None:
        return None
    frames = []
    for index in range(curves["num_frames"]):
        turns = {}
        if head is not None:
            pitch, yaw, roll = head["rotation"][index]
            turns.update(HeadYaw=yaw, HeadPitch=pitch, HeadRoll=roll)
        if eyes is not None:
            for side, key in (("Left", "left"), ("Right", "right")):
                yaw, pitch = eyes[key][index]
                turns.update({f"{side}EyeYaw": yaw, f"{side}EyePitch": pitch})
        frames.append(turns)
    return frames


def eye_rotations_from_look_keys(weights: dict[str, float]) -> dict[str, float]:
    """The eye columns a face turning its eyes with eyeLook keys shows: the inverse of the gaze's
    mapping (nonverbal/gaze.py: EYE_LOOK_YAW_RAD, EYE_LOOK_PITCH_RAD per unit of weight)."""
    turns = {}
    for side, outward in (("Left", 1.0), ("Right", -1.0)):
        horizontal = weights.get(f"eyeLookOut{side}", 0.0) - weights.get(f"eyeLookIn{side}", 0.0)
        vertical = weights.get(f"eyeLookDown{side}", 0.0) - weights.get(f"eyeLookUp{side}", 0.0)
        turns[f"{side}EyeYaw"] = horizontal * outward * EYE_LOOK_YAW_RAD
        turns[f"{side}EyePitch"] = vertical * EYE_LOOK_PITCH_RAD
    return turns


def curves_to_live_link_csv(curves: dict) -> str:
    """A curves document's ARKit weights, head and eyes as a Live Link Face CSV at the curves' frame rate."""
    names = curves["arkit"]["names"]
    frames = [dict(zip(names, row)) for row in curves["arkit"]["weights"]]
    return write_live_link_csv(frames, float(curves["fps"]), curves_rotations(curves))


MAX_FIELD_CHARS = 64  # a number or a timecode; longer is not a Live Link CSV
MAX_FRAMES = 60 * 60 * 60  # an hour at 60 fps: rows the importer reads (8 bytes per value kept)
GAP_ALLOWANCE = 4  # timecodes may skip dropped frames, not span far more frames than the file has rows


@dataclass
class LiveLinkTake:
    times: list[float]  # seconds of each row from the first
    values: dict[str, array]  # ARKit name (or HeadYaw, …) → value per row (doubles: 8 bytes each)
    rate: float  # frames per second the timecodes count
    rate_from: str  # "timecodes" or "given": where the rate came from


def read_live_link_csv(text: str, fps: float) -> LiveLinkTake:
    """A Live Link Face CSV's rows: its ARKit weights, and the head and eye rotation columns it has under their
    own names (HeadYaw, …, radians). The rate is read from the timecodes (the frames field's range); `fps`
    is used only for a take shorter than two seconds, where they cannot tell.

    Hostile files are refused with what is wrong: a field longer than a number, a column twice, a value or
    timecode that is not finite, or timecodes spanning far more frames than the file has rows."""
    try:
        rows = csv.reader(io.StringIO(text))
        header = [column.strip().lstrip("\ufeff") for column in next(rows, [])]
        if not header or header[0] != "Timecode":
            raise LiveLinkFormatError("not a Live Link Face CSV: the first column must be Timecode")
        shapes = {i: arkit_name(c) for i, c in enumerate(header) if c.lower() in _ARKIT_FOR}
        turns = {i: c for i, c in enumerate(header) if c in ROTATIONS}
        columns = {**shapes, **turns}
        twice = sorted({name for name in columns.values() if list(columns.values()).count(name) > 1})
        if twice:
            raise LiveLinkFormatError(f"the column {twice[0]} appears twice: which one is meant cannot be told")
        if len(shapes) < 8:
            raise LiveLinkFormatError(f"only {len(shapes)} ARKit columns in the header; a Live Link Face CSV has 52")
        stamps, values = [], {name: array("d") for name in columns.values()}
        for number, row in enumerate(rows, start=2):
            if not row:
                continue
            if len(row) < len(header):
                raise LiveLinkFormatError(f"row {number} has {len(row)} columns, the header {len(header)}")
            if len(stamps) >= MAX_FRAMES:
                raise LiveLinkFormatError(f"more than {MAX_FRAMES} rows: split the take")
            stamps.append(parse_timecode(row[0]))
            for index, name in columns.items():
                values[name].append(_number(row[index], number, header[index]))
    except csv.Error as exc:
        raise LiveLinkFormatError(f"not a CSV this reader can take: {exc}") from exc
    if not stamps:
        raise LiveLinkFormatError("the CSV has a header but no frames")
    found = timecode_rate(stamps)
    rate, rate_from = (found, "timecodes") if found else (float(fps), "given")
    first = stamps[0][0] + stamps[0][1] / rate
    times = [whole + within / rate - first for whole, within in stamps]
    span = max(times) - min(times)
    if min(times) < 0 or span * rate > GAP_ALLOWANCE * len(times) + rate:
        raise LiveLinkFormatError(f"the timecodes run {span:.0f} s, out of proportion to {len(times)} rows at "
                                  f"{rate:g} fps (out of order, or a corrupt timecode)")
    return LiveLinkTake(times, values, rate, rate_from)


def _number(field: str, row: int, column: str) -> float:
    if len(field) > MAX_FIELD_CHARS:
        raise LiveLinkFormatError(f"row {row}, {column}: a field of {len(field)} characters is not a number")
    try:
        value = float(field)
    except ValueError as exc:
        raise LiveLinkFormatError(f"row {row}, {column}: {field[:20]!r} is not a number") from exc
    if not math.isfinite(value):
        raise LiveLinkFormatError(f"row {row}, {column}: not a finite number")
    return value
