"""Key poses: a curve keyed only where it needs a key, Bézier in between, within a stated tolerance.

How: keys start at the ends and at every turn of the curve that moves by more than the tolerance
(lip closures, jaw peaks, brow raises are such turns, so each is keyed on its own frame, and with
Blender's auto-clamped handles a key at a turn is flat: the curve peaks exactly there). Then,
while Blender's own evaluation of the Bézier curve misses a frame by more than the tolerance, the
worst frame of each gap gets a key. The result is within the tolerance of the dense curve on every
frame, measured by the F-curve Blender plays.
"""

from __future__ import annotations

SHAPE_KEY_TOLERANCE = 0.02  # in shape-key weight (0-1)
ROTATION_TOLERANCE = 0.003  # radians (0.17°) for bone rotations
LOCATION_TOLERANCE = 0.002  # scene units (2 mm): the offset that keeps a head turning about its neck
MAX_ROUNDS = 50


def turning_points(values: list[float], tolerance: float) -> list[int]:
    """Indices of the ends and of every extremum that the curve leaves by more than `tolerance`."""
    last = len(values) - 1
    keep, extreme, direction = [0], 0, 0  # direction: +1 rising to a peak, -1 falling to a trough
    for i in range(1, last + 1):
        if direction == 0:
            if abs(values[i] - values[0]) > tolerance:
                direction, extreme = (1 if values[i] > values[0] else -1), i
        elif (values[i] - values[extreme]) * direction > 0:
            extreme = i  # still going the same way
        elif abs(values[i] - values[extreme]) > tolerance:  # it turned back: the extreme was a pose
            keep.append(extreme)
            direction, extreme = -direction, i
    return sorted(set(keep + [last]))


def fill_key_poses(fcurve, start_frame: float, values: list[float], tolerance: float,
                   required: frozenset[int] = frozenset()) -> int:
    """Key `fcurve` with as few Bézier keys as keep every frame within `tolerance` of `values`, and a
    key on each index in `required` (the lip closures); returns the number of keys."""
    keys = set(turning_points(values, tolerance)) | {i for i in required if 0 <= i < len(values)}
    for _ in range(MAX_ROUNDS):
        _write(fcurve, start_frame, values, sorted(keys))
        added = _worst_misses(fcurve, start_frame, values, sorted(keys), tolerance)
        if not added:
            return len(keys)
        keys |= added
    _write(fcurve, start_frame, values, list(range(len(values))))  # not reached in practice: every frame
    return len(values)


def _write(fcurve, start_frame: float, values: list[float], indices: list[int]) -> None:
    points = fcurve.keyframe_points
    if len(points) != len(indices):
        points.clear()
        points.add(len(indices))
    co = []
    for i in indices:
        co += (start_frame + i, values[i])
    points.foreach_set("co", co)
    points.foreach_set("interpolation", [BEZIER] * len(indices))
    points.foreach_set("handle_left_type", [AUTO_CLAMPED] * len(indices))
    points.foreach_set("handle_right_type", [AUTO_CLAMPED] * len(indices))
    fcurve.update()  # handles from the neighbours, as Blender computes them


def _worst_misses(fcurve, start_frame: float, values: list[float], keys: list[int], tolerance: float) -> set[int]:
    """The frame of each gap between keys where the played curve misses most, if by more than `tolerance`."""
    added = set()
    for left, right in zip(keys, keys[1:]):
        worst, worst_error = None, tolerance
        for i in range(left + 1, right):
            error = abs(fcurve.evaluate(start_frame + i) - values[i])
            if error > worst_error:
                worst, worst_error = i, error
        if worst is not None:
            added.add(worst)
    return added


def closure_indices(phones: list[dict], fps: float, count: int) -> frozenset[int]:
    """The frame of each /p b m/ nearest its middle (the one the closure guarantee closes), as
    indices of a curve sampled at `fps` from the clip's start."""
    found = set()
    for phone in phones:
        if phone.get("phone") in ("P", "B", "M"):
            middle = (phone["start"] + phone["end"]) / 2 * fps
            inside = [i for i in range(int(phone["start"] * fps), int(phone["end"] * fps) + 2)
                      if phone["start"] * fps <= i < phone["end"] * fps]
            found.add(min(inside, key=lambda i: abs(i - middle)) if inside else round(middle))
    return frozenset(i for i in found if 0 <= i < count)


# Enum values of keyframe interpolation and handle types, as foreach_set takes them.
BEZIER = 2
AUTO_CLAMPED = 4
