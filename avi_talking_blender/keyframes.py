"""The only place that writes animation: curves → a new Action per generation.

Bulk writes (`keyframe_points.add` + `foreach_set`), never per-key inserts. Blender 4.4+ stores
F-curves in slotted actions (layer → strip → channelbag for a slot); 4.2/4.3 keep them on the
Action. The user's previous Action is never modified: it gets a fake user so it survives saving.
"""

from __future__ import annotations

import math

import bpy

LINEAR = 1  # enum value of 'LINEAR' in keyframe interpolation: per-frame samples, no overshoot


def _new_action(name: str, id_data: bpy.types.ID):
    """A fresh Action and a function that creates F-curves in it for `id_data`."""
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
    return previous


def _fill(fcurve: bpy.types.FCurve, frames: list[float], values: list[float]) -> None:
    count = len(values)
    fcurve.keyframe_points.add(count)
    co = [0.0] * (2 * count)
    co[0::2] = frames
    co[1::2] = values
    fcurve.keyframe_points.foreach_set("co", co)
    fcurve.keyframe_points.foreach_set("interpolation", [LINEAR] * count)
    fcurve.update()


def key_frames(count: int, start_frame: float, curves_fps: float, scene_fps: float) -> list[float]:
    """Scene frame of each curve sample: sample i plays i / curves_fps seconds after the strip start."""
    step = scene_fps / curves_fps
    return [start_frame + i * step for i in range(count)]


def write_shape_key_action(obj: bpy.types.Object, values: dict[str, list[float]], *, frames: list[float],
                           action_name: str) -> bpy.types.Action:
    """Key every named shape key of `obj` at `frames` in a new Action assigned to its shape keys."""
    key = obj.data.shape_keys
    action, slot, new_fcurve = _new_action(action_name, key)
    for name, series in values.items():
        block = key.key_blocks[name]
        low, high = min(series), max(series)
        # FLAME coefficients are signed and can exceed 1: widen the slider range or Blender clamps them.
        if low < block.slider_min:
            block.slider_min = max(-10.0, math.floor(low))
        if high > block.slider_max:
            block.slider_max = min(10.0, math.ceil(high))
        _fill(new_fcurve(f'key_blocks["{name}"].value'), frames, series)
    _assign(key, action, slot)
    return action


def write_bone_rotation_action(armature: bpy.types.Object, bone: str, axis_angles: list[list[float]], *,
                               frames: list[float], action_name: str) -> bpy.types.Action:
    """Jaw pose (axis-angle radians) → Euler XYZ keys on a pose bone, in a new Action on the armature."""
    pose_bone = armature.pose.bones[bone]
    if pose_bone.rotation_mode != "XYZ":
        pose_bone.rotation_mode = "XYZ"
    eulers = [_axis_angle_to_euler(v) for v in axis_angles]
    action, slot, new_fcurve = _new_action(action_name, armature)
    for index in range(3):
        _fill(new_fcurve(f'pose.bones["{bone}"].rotation_euler', index), frames, [e[index] for e in eulers])
    _assign(armature, action, slot)
    return action


def _axis_angle_to_euler(rotation: list[float]) -> tuple[float, float, float]:
    from mathutils import Matrix, Vector

    vector = Vector(rotation)
    angle = vector.length
    if angle < 1e-9:
        return (0.0, 0.0, 0.0)
    return tuple(Matrix.Rotation(angle, 3, vector.normalized()).to_euler("XYZ"))
