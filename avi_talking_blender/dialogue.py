"""Dialogue scenes: who looks at whom, and the faces that listen.

In Generate All each line's face looks at the face it talks to: the face of the nearest other line in
time, or the line's own *Looks At* object. The target is sent as points in the speaker's head frame,
sampled over the line from the objects' positions at those frames, so characters who walk still look at
each other. Every other line-face that listens (its *Listens* switch, on by default) gets a listening
layer over the line: blinks, gaze on the speaker, nods, a closed mouth, a subdued echo of the speaker's
emotion (model_server/nonverbal/listener.py). It fades out a fifth of a second before that face's own
lines and back in after them, so it never plays over its own speech; where a third face interrupts, the
listener turns to the interrupter (one listening layer at a time).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import bpy
from mathutils import Vector

GAZE_SAMPLES = 8  # positions sampled over a line: a walk is smooth at that spacing
BLEND_S = 0.2  # a listening layer fades out this long before the face's own line starts
MIN_DISTANCE_M = 0.1  # heads closer than this are taken for one place: the eyes look ahead


@dataclass
class Line:
    """One line of the batch, as Generate All sees it: its strip, face and frames."""

    strip: str
    face: str
    start: float  # first scene frame
    end: float  # scene frame where it stops (exclusive)
    looks_at: str | None = None  # a face (object) picked on the line, else the nearest other line's face


@dataclass
class ListenerSpec:
    """A face listening to one line: where the speaker's head is, seen from its head, over the line."""

    face: str
    gaze_points: list[list[float]] | None = None  # None: look ahead (the speaker is nowhere to be seen)
    quiet: list[tuple[float, float]] = field(default_factory=list)  # frame spans where it does not listen to it


def quiet_spans(lines: list[Line], listener: str, line: Line) -> list[tuple[float, float]]:
    """Where `listener` stops listening to `line`: its own lines, and each line of a third face that starts
    later and overlaps it (an interruption takes the listener's attention: it listens to one voice at a
    time, so two listening layers never add up on one face)."""
    spans = [(other.start, other.end) for other in lines if other.face == listener]
    spans += [(other.start, other.end) for other in lines
              if other.face not in (listener, line.face) and other.start > line.start
              and other.start < line.end]
    return sorted(spans)


def head_point(face: bpy.types.Object) -> Vector:
    """The middle of the face's bounding box in the world: where the other looks, and whence it looks."""
    corners = [face.matrix_world @ Vector(c) for c in face.bound_box]
    return sum(corners, Vector()) / len(corners)


def in_head_frame(face: bpy.types.Object, point: Vector) -> list[float]:
    """`point` (world) in `face`'s head frame: x to its left, y up, z forward (the face looks along its -Y)."""
    turn = face.matrix_world.to_3x3().normalized()
    local = turn.transposed() @ (point - head_point(face))
    return [local.x, local.z, -local.y]


def gaze_points(scene, viewer: bpy.types.Object, target: bpy.types.Object, start: float, end: float) -> list | None:
    """Where `target`'s head is from `viewer`'s head, at GAZE_SAMPLES frames spread over [start, end); None
    where the two heads are within MIN_DISTANCE_M at some frame (one in the other: nowhere to look)."""
    current = scene.frame_current
    points = []
    try:
        for index in range(GAZE_SAMPLES):
            frame = start + (end - 1 - start) * index / (GAZE_SAMPLES - 1)
            scene.frame_set(int(frame), subframe=frame - int(frame))
            points.append(in_head_frame(viewer, head_point(target)))
    finally:
        scene.frame_set(current)
    if any(sum(v * v for v in point) < MIN_DISTANCE_M ** 2 for point in points):
        return None
    return points


def scene_gaze(scene, face: bpy.types.Object, start: float, end: float) -> dict | None:
    """The API's gaze for `face` over [start, end) from the panel's Gaze: the scene camera, an object, or
    None (straight ahead; also when the camera or object is missing, or where the face is)."""
    settings = scene.avi_talking
    target = {"CAMERA": scene.camera, "OBJECT": settings.gaze_object}.get(settings.gaze_target)
    if target is None or target == face:
        return None
    points = gaze_points(scene, face, target, start, end)
    return {"points": points} if points else None


def addressee(lines: list[Line], index: int) -> str | None:
    """The face `lines[index]` talks to: its own pick, else the face of the nearest other line in time."""
    line = lines[index]
    if line.looks_at:
        return line.looks_at
    others = [other for other in lines if other.face != line.face]

    def gap(other: Line) -> float:
        return max(0.0, other.start - line.end, line.start - other.end)

    return min(others, key=gap).face if others else None


def listening_envelope(start: float, frames: int, fps: float, own: list[tuple[float, float]]) -> list[float]:
    """Per frame of a listening layer that starts at scene frame `start`: 0 inside the listener's own
    lines (`own`: their frame spans), easing to 1 over BLEND_S before and after each."""
    blend = max(1.0, BLEND_S * fps)
    out = []
    for index in range(frames):
        frame = start + index
        weight = 1.0
        for first, last in own:
            if first <= frame < last:
                weight = 0.0
                break
            distance = first - frame if frame < first else frame - last + 1
            weight = min(weight, min(1.0, distance / blend))
        out.append(weight)
    return out


def faded(curves: dict, envelope: list[float]) -> dict:
    """A listener's curves document with every weight and angle scaled by `envelope`, frame by frame."""
    def scale(rows: list[list[float]]) -> list[list[float]]:
        return [[value * weight for value in row] for row, weight in zip(rows, envelope)]

    out = dict(curves, arkit=dict(curves["arkit"], weights=scale(curves["arkit"]["weights"])))
    if "head" in curves:
        out["head"] = {key: scale(rows) for key, rows in curves["head"].items()}
    if "eyes" in curves:
        out["eyes"] = {key: scale(rows) for key, rows in curves["eyes"].items()}
    out["flame"] = dict(curves["flame"], expression=scale(curves["flame"]["expression"]),
                        jaw=scale(curves["flame"]["jaw"]))
    return out
