"""The user's nonverbal settings as the command line, the batch manifest and the API give them:
the head-motion amount and the gaze target, checked with messages a user can act on."""

from __future__ import annotations

import math

from ..errors import InputError
from .compose import MAX_HEAD_MOTION, GazeTarget, NonverbalOptions

GAZE_WORDS = ("camera", "forward")
MAX_GAZE_POINTS = 4096


def gaze_target(value) -> GazeTarget:
    """"camera" or "forward" (straight ahead: eye contact with a camera the face is turned to),
    "YAW,PITCH" in degrees, "X,Y,Z" a point in metres in the head's frame; or the API's object
    {"direction": [yaw, pitch]} (degrees), {"point": [x, y, z]}, or {"points": [[x, y, z], …]} (a moving
    target: points sampled evenly over the clip, as the add-on sends another character's head)."""
    if value is None or (isinstance(value, str) and value.strip().lower() in GAZE_WORDS):
        return GazeTarget()
    if isinstance(value, dict) and set(value) == {"points"}:
        points = value["points"]
        if not isinstance(points, list) or not 1 <= len(points) <= MAX_GAZE_POINTS:
            raise InputError(f"gaze.points must be a list of 1 to {MAX_GAZE_POINTS} points")
        try:
            return GazeTarget.from_points([_numbers(point, 3, "each gaze point") for point in points])
        except ValueError as exc:
            raise InputError(str(exc)) from exc
    if isinstance(value, dict):
        if set(value) == {"direction"}:
            numbers = _numbers(value["direction"], 2, "gaze.direction")
        elif set(value) == {"point"}:
            numbers = _numbers(value["point"], 3, "gaze.point")
        else:
            raise InputError('gaze must be "camera", "forward", {"direction": [yaw, pitch]}, {"point": [x, y, z]} '
                             'or {"points": [[x, y, z], ...]}')
    else:
        parts = str(value).split(",")
        numbers = _numbers(parts, len(parts), "gaze") if len(parts) in (2, 3) else None
        if numbers is None:
            raise InputError(f"gaze {str(value)[:40]!r}: give camera, forward, YAW,PITCH (degrees) or X,Y,Z (metres)")
    if len(numbers) == 2:
        yaw, pitch = numbers
        if abs(yaw) > 60 or abs(pitch) > 45:
            raise InputError(f"gaze direction {yaw:g}°, {pitch:g}° is past what eyes and a turned head reach "
                             "(yaw within ±60°, pitch within ±45°)")
        return GazeTarget(math.radians(yaw), math.radians(pitch))
    try:
        return GazeTarget.from_point(tuple(numbers))
    except ValueError as exc:
        raise InputError(str(exc)) from exc


def _numbers(values, count: int, where: str) -> list[float]:
    try:
        numbers = [float(v) for v in values]
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where} must be {count} numbers") from exc
    if len(numbers) != count or not all(math.isfinite(n) for n in numbers):
        raise InputError(f"{where} must be {count} finite numbers")
    return numbers


def checked_head_motion(value) -> float:
    """The head-motion amount as a number from 0 (still) to MAX_HEAD_MOTION, or InputError saying so."""
    try:
        amount = float(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"head motion must be a number from 0 to {MAX_HEAD_MOTION:g}") from exc
    if not (math.isfinite(amount) and 0 <= amount <= MAX_HEAD_MOTION):
        raise InputError(f"head motion must be between 0 and {MAX_HEAD_MOTION:g}, got {value}")
    return amount


def nonverbal_options(head_motion, gaze=None) -> NonverbalOptions:
    return NonverbalOptions(checked_head_motion(head_motion),
                            gaze if isinstance(gaze, GazeTarget) else gaze_target(gaze))
