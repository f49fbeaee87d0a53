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


def parse_timecode(text: str, fps: float) -> float:
    """Seconds of a HH:MM:SS:FF(.mmm) timecode at `fps`."""
    try:
        hours, minutes, seconds, frames = text.strip().split(":")
        return int(hours) * 3600 + int(minutes) * 60 + int(seconds) + float(frames) / fps
    except ValueError as exc:
        raise LiveLinkFormatError(f"timecode {text[:40]!r} is not HH:MM:SS:FF.mmm") from exc


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


def read_live_link_csv(text: str, fps: float) -> tuple[list[float], dict[str, list[float]]]:
    """(seconds of each row from the first, {ARKit name: weight per row}) of a Live Link Face CSV; the
    head and eye rotation columns it has come under their own names (HeadYaw, …, radians).

    `fps` is the rate its timecodes count frames at (the app's setting: 60 by default)."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or not rows[0] or rows[0][0].strip().lstrip("\ufeff") != "Timecode":
        raise LiveLinkFormatError("not a Live Link Face CSV: the first column must be Timecode")
    header = [column.strip() for column in rows[0]]
    shapes = {i: arkit_name(c) for i, c in enumerate(header) if c.lower() in _ARKIT_FOR}
    turns = {i: c for i, c in enumerate(header) if c in ROTATIONS}
    if len(shapes) < 8:
        raise LiveLinkFormatError(f"only {len(shapes)} ARKit columns in the header; a Live Link Face CSV has 52")
    columns = {**shapes, **turns}
    times, values = [], {name: [] for name in columns.values()}
    for number, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) < len(header):
            raise LiveLinkFormatError(f"row {number} has {len(row)} columns, the header {len(header)}")
        times.append(parse_timecode(row[0], fps))
        for index, name in columns.items():
            try:
                value = float(row[index])
            except ValueError as exc:
                raise LiveLinkFormatError(f"row {number}, {header[index]}: {row[index][:20]!r} is not a number") from exc
            if not math.isfinite(value):
                raise LiveLinkFormatError(f"row {number}, {header[index]}: not a finite number")
            values[name].append(value)
    if not times:
        raise LiveLinkFormatError("the CSV has a header but no frames")
    start = times[0]
    return [t - start for t in times], values
