"""The only place that writes animation: curves → a new Action per generation.

Keys land on whole scene frames: sample i of a curve is keyed at `start_frame + i`. The add-on asks
the model process for curves at the scene's frame rate (`render.fps / render.fps_base`); curves made
at another rate (a curves file from the command line, say) are first resampled linearly.

Bulk writes (`keyframe_points.add` + `foreach_set`), never per-key inserts. Blender 4.4+ stores
F-curves in slotted actions (layer → strip → channelbag for a slot); 4.2/4.3 keep them on the
Action. The user's previous Action is never modified: it gets a fake user so it survives saving.
The new Action is the active one in Add blend mode: the animator's NLA strips below still evaluate,
and the generated curves add to them.
"""

from __future__ import annotations

import math

import bpy

from .key_poses import LOCATION_TOLERANCE, ROTATION_TOLERANCE, SHAPE_KEY_TOLERANCE, fill_key_poses

LINEAR = 1  # enum value of 'LINEAR' in keyframe interpolation: per-frame samples, no overshoot
SLIDER_LIMIT = 10.0  # Blender's widest shape-key slider range


def _same_rate(a: float, b: float) -> bool:
    # Blender keeps fps_base as a 32-bit float: 30/1.001 read back differs in the 9th digit.
    return abs(a - b) <= 1e-6 * max(a, b)


def resample_count(count: int, source_fps: float, target_fps: float) -> int:
    """Samples at `target_fps` covering the time of `count` samples at `source_fps`."""
    if _same_rate(source_fps, target_fps) or count < 2:
        return count
    return math.floor((count - 1) * target_fps / source_fps + 1e-9) + 1


def resample_linear(series: list[float], source_fps: float, target_fps: float) -> list[float]:
    """`series` sampled at `source_fps` → the same stretch of time sampled at `target_fps`."""
    if _same_rate(source_fps, target_fps) or len(series) < 2:
        return list(series)
    last = len(series) - 1
    count = resample_count(len(series), source_fps, target_fps)
    out = []
    for j in range(count):
        position = min(j * source_fps / target_fps, last)
        i = min(int(position), last - 1)
        t = position - i
        out.append(series[i] * (1.0 - t) + series[i + 1] * t)
    return out


def resample_at_times(times: list[float], series, target_fps: float) -> list[float]:
    """Values at every frame of `target_fps` from 0 to the last of `times` (seconds, rising; gaps allowed:
    a take that dropped frames), linear between the samples."""
    count = int(math.floor(times[-1] * target_fps + 1e-6)) + 1
    out, i = [], 0
    for j in range(count):
        t = j / target_fps
        while i < len(times) - 2 and times[i + 1] <= t:
            i += 1
        if len(times) == 1:
            out.append(series[0])
            continue
        span = times[i + 1] - times[i]
        share = min(max((t - times[i]) / span, 0.0), 1.0) if span > 0 else 0.0
        out.append(series[i] * (1.0 - share) + series[i + 1] * share)
    return out


class NotKeyable(ValueError):
    """The animation could not be written, or would not be saved; the message says what to do."""


def check_keyable(id_data: bpy.types.ID, owner: str) -> None:
    """Refuse, before anything is written, data whose new Action would be lost or cannot be assigned."""
    if id_data.library is not None:
        raise NotKeyable(
            f"'{owner}' is linked from {bpy.path.basename(id_data.library.filepath)}: its shape keys belong to that "
            "file, so keys written here would be lost when you save. Make a library override of it with its mesh "
            "(Object ▸ Library Override ▸ Make ▸ Selected & Content) or append it, then run again")
    override = getattr(id_data, "override_library", None)
    if override is not None and getattr(override, "is_system_override", False):
        raise NotKeyable(f"'{owner}' is a non-editable library override: make it editable "
                         "(Outliner ▸ Library Override ▸ Make Editable), then run again")
    animation = id_data.animation_data
    if animation is not None and animation.use_tweak_mode:
        raise NotKeyable(f"'{owner}' is in NLA tweak mode (editing a strip's Action): leave it "
                         "(Tab in the NLA editor), then run again")


def _new_action(name: str, id_data: bpy.types.ID):
    """A fresh Action, its slot for `id_data` (None before 4.4), and an F-curve factory."""
    action = bpy.data.actions.new(name)
    if hasattr(action, "slots"):  # Blender 4.4+: slotted actions
        slot = action.slots.new(id_type=id_data.id_type, name=id_data.name)
        strip = action.layers.new("AVI-Talking").strips.new(type="KEYFRAME")
        channelbag = strip.channelbag(slot, ensure=True)
        return action, slot, lambda path, index=0: channelbag.fcurves.new(path, index=index)
    return action, None, lambda path, index=0: action.fcurves.new(path, index=index)


def _assign(id_data: bpy.types.ID, action: bpy.types.Action, slot) -> bpy.types.Action | None:
    animation = id_data.animation_data or id_data.animation_data_create()
    previous = animation.action
    if previous is not None:
        previous.use_fake_user = True  # stays in the file, one click away in the Action editor
    animation.action = action
    if slot is not None:
        animation.action_slot = slot  # without this the channels do not evaluate on 4.4+
    # Added on top of the NLA strips below, so an animator's own layers (a hand-keyed blink) still
    # play; with no strips below it reads the same as Replace (shape keys and bones rest at 0).
    animation.action_blend_type = "ADD"
    return previous


def _fill(fcurve: bpy.types.FCurve, start_frame: float, values: list[float], tolerance: float,
          key_poses_at: frozenset[int] | None) -> None:
    """Every frame keyed (linear); or, with `key_poses_at` (indices that must keep a key), only the
    key poses within `tolerance` (key_poses.py)."""
    if key_poses_at is not None:
        fill_key_poses(fcurve, start_frame, values, tolerance, key_poses_at)
        return
    count = len(values)
    fcurve.keyframe_points.add(count)
    co = [0.0] * (2 * count)
    co[0::2] = [start_frame + i for i in range(count)]
    co[1::2] = values
    fcurve.keyframe_points.foreach_set("co", co)
    fcurve.keyframe_points.foreach_set("interpolation", [LINEAR] * count)
    fcurve.update()


def write_shape_key_action(obj: bpy.types.Object, channel_values: dict[str, list[float]], *, start_frame: float,
                           curves_fps: float, scene_fps: float, action_name: str,
                           key_poses_at: frozenset[int] | None = None) -> bpy.types.Action:
    """Key the named shape keys of `obj` (key block name → value per curve sample) in a new Action,
    made the active one."""
    action, slot = build_shape_key_action(obj, channel_values, start_frame=start_frame, curves_fps=curves_fps,
                                          scene_fps=scene_fps, action_name=action_name, key_poses_at=key_poses_at)
    _assign(obj.data.shape_keys, action, slot)
    return action


def build_shape_key_action(obj: bpy.types.Object, channel_values: dict[str, list[float]], *, start_frame: float,
                           curves_fps: float, scene_fps: float, action_name: str, key_poses_at: frozenset[int] | None = None):
    """(a new Action keying the named shape keys of `obj`, its slot or None before 4.4); not assigned."""
    key = obj.data.shape_keys
    missing = [name for name in channel_values if name not in key.key_blocks]
    if missing:
        raise ValueError(f"'{obj.name}' has no shape key {', '.join(missing[:3])}")
    action, slot, new_fcurve = _new_action(action_name, key)
    for name, series in channel_values.items():
        series = resample_linear(series, curves_fps, scene_fps)
        block = key.key_blocks[name]
        # FLAME coefficients are signed and can exceed 1: widen the slider range or Blender clamps them.
        low, high = min(series), max(series)
        if low < block.slider_min:
            block.slider_min = max(-SLIDER_LIMIT, math.floor(low))
        if high > block.slider_max:
            block.slider_max = min(SLIDER_LIMIT, math.ceil(high))
        _fill(new_fcurve(f'key_blocks["{name}"].value'), start_frame, series, SHAPE_KEY_TOLERANCE, key_poses_at)
    return action, slot


def write_bone_rotation_action(armature: bpy.types.Object, bone: str, axis_angles: list[list[float]], *,
                               start_frame: float, curves_fps: float, scene_fps: float,
                               action_name: str, key_poses_at: frozenset[int] | None = None) -> bpy.types.Action:
    """Jaw pose (axis-angle radians per sample) → Euler XYZ keys on a pose bone, in a new active Action."""
    action, slot = build_bone_rotation_action(armature, bone, axis_angles, start_frame=start_frame,
                                              curves_fps=curves_fps, scene_fps=scene_fps, action_name=action_name,
                                              key_poses_at=key_poses_at)
    _assign(armature, action, slot)
    return action


def rest_action(name: str, id_data: bpy.types.ID, data_paths: list[str]):
    """(an Action holding 0 on every path in `data_paths` over two frames, its slot)."""
    action, slot, new_fcurve = _new_action(name, id_data)
    for path in data_paths:
        fcurve = new_fcurve(path)
        fcurve.keyframe_points.add(2)
        fcurve.keyframe_points.foreach_set("co", [0.0, 0.0, 1.0, 0.0])
        fcurve.update()
    return action, slot


def build_bone_rotation_action(armature: bpy.types.Object, bone: str, axis_angles: list[list[float]], *,
                               start_frame: float, curves_fps: float, scene_fps: float, action_name: str,
                               key_poses_at: frozenset[int] | None = None, minus: list[list[float]] | None = None):
    """(a new Action of Euler XYZ keys on a pose bone from axis-angle radians, its slot); not assigned.
    `minus`: axis-angles whose Euler angles are subtracted (a layer keyed as the rise of a running sum,
    so that the layers' Euler keys add up to the whole rotation's)."""
    pose_bone = armature.pose.bones[bone]
    if pose_bone.rotation_mode != "XYZ":
        pose_bone.rotation_mode = "XYZ"
    eulers = _resampled_eulers(axis_angles, curves_fps, scene_fps)
    if minus is not None:
        below = _resampled_eulers(minus, curves_fps, scene_fps)
        eulers = [tuple(a - b for a, b in zip(e, f)) for e, f in zip(eulers, below)]
    action, slot, new_fcurve = _new_action(action_name, armature)
    for index in range(3):
        _fill(new_fcurve(f'pose.bones["{bone}"].rotation_euler', index), start_frame, [e[index] for e in eulers],
              ROTATION_TOLERANCE, key_poses_at)
    return action, slot


def build_channels_action(id_data: bpy.types.ID, channels: dict[str, list[tuple]], *, start_frame: float,
                          action_name: str, key_poses: bool = False):
    """(a new Action keying every component of each data path, its slot); not assigned. `channels`: data
    path → one tuple of component values per frame (a rotation, a location). Every frame keyed (linear),
    or with `key_poses` only the key poses, within each kind of channel's tolerance."""
    action, slot, new_fcurve = _new_action(action_name, id_data)
    for path, frames in channels.items():
        tolerance = _channel_tolerance(path)
        for index in range(len(frames[0]) if frames else 0):
            _fill(new_fcurve(path, index), start_frame, [values[index] for values in frames], tolerance,
                  frozenset() if key_poses else None)
    return action, slot


def _channel_tolerance(data_path: str) -> float:
    if data_path.endswith("location"):
        return LOCATION_TOLERANCE
    # A quaternion's components move half as far as its angle: half the tolerance keeps the angle's.
    return ROTATION_TOLERANCE / 2 if data_path.endswith("quaternion") else ROTATION_TOLERANCE


def _resampled_eulers(axis_angles: list[list[float]], curves_fps: float, scene_fps: float) -> list[tuple]:
    # The jaw turns through small angles, so resampling axis-angle components linearly is exact enough.
    components = [resample_linear([v[i] for v in axis_angles], curves_fps, scene_fps) for i in range(3)]
    return [_axis_angle_to_euler(v) for v in zip(*components)]


def _axis_angle_to_euler(rotation) -> tuple[float, float, float]:
    from mathutils import Matrix, Vector

    vector = Vector(rotation)
    angle = vector.length
    if angle < 1e-9:
        return (0.0, 0.0, 0.0)
    return tuple(Matrix.Rotation(angle, 3, vector.normalized()).to_euler("XYZ"))
