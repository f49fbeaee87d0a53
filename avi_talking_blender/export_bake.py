"""Export what the animator sees when the face has modifiers.

FBX drops every shape key of a mesh with a modifier other than Armature (Subdivision, Corrective Smooth,
Mirror, Solidify …: zero keys, no animation, while the export "succeeds"), and glTF keeps the keys but
leaves the modifiers out (half a face behind a Mirror). So before either export, a face with such
modifiers is replaced by a baked copy: its basis and each shape key evaluated through the modifiers (the
key shown alone at full strength), with the same shape-key animation (the same NLA tracks and Actions),
object animation, parent and Armature modifier. The copy takes the face's name for the export and is
removed after it; the face itself is not touched.
"""

from __future__ import annotations

import contextlib
from array import array

import bpy

from .nla_layers import copy_tracks
from .targets import TargetError


def baked_modifiers(obj: bpy.types.Object) -> list[str]:
    """The modifiers an export must bake into the shape keys (shown in the viewport, not Armature)."""
    return [m.name for m in obj.modifiers if m.show_viewport and m.type != "ARMATURE"]


@contextlib.contextmanager
def face_for_export(context, obj: bpy.types.Object):
    """Yields the object to export in place of `obj`: `obj` itself, or its baked copy (see the module)."""
    if not baked_modifiers(obj):
        yield obj
        return
    coordinates, mesh = _evaluated_keys(context, obj)
    copy = bpy.data.objects.new(obj.name, mesh)
    original_name = obj.name
    try:
        obj.name = f"{original_name}.avi-export"[:63]
        copy.name = original_name
        _dress_like(copy, obj, context)
        _add_keys(copy, obj, coordinates)
        yield copy
    finally:
        bpy.data.objects.remove(copy)
        bpy.data.meshes.remove(mesh)
        obj.name = original_name


def _evaluated_keys(context, obj) -> tuple[list[array], bpy.types.Mesh]:
    """Each key block's shape through the modifiers (Armature left out: the export skins it), and the
    evaluated basis as a new mesh (materials, UVs and vertex groups kept)."""
    key_blocks = obj.data.shape_keys.key_blocks
    armatures = [m for m in obj.modifiers if m.type == "ARMATURE" and m.show_viewport]
    pinned, active = obj.show_only_shape_key, obj.active_shape_key_index
    coordinates, mesh = [], None
    try:
        for modifier in armatures:
            modifier.show_viewport = False
        obj.show_only_shape_key = True  # the active key alone, at full strength, whatever is animated
        depsgraph = context.evaluated_depsgraph_get()
        for index in range(len(key_blocks)):
            obj.active_shape_key_index = index
            depsgraph.update()
            evaluated = obj.evaluated_get(depsgraph)
            if index == 0:
                mesh = bpy.data.meshes.new_from_object(evaluated, preserve_all_data_layers=True, depsgraph=depsgraph)
            points = evaluated.to_mesh()
            values = array("f", bytes(12 * len(points.vertices)))
            points.vertices.foreach_get("co", values)
            evaluated.to_mesh_clear()
            coordinates.append(values)
    finally:
        obj.show_only_shape_key, obj.active_shape_key_index = pinned, active
        for modifier in armatures:
            modifier.show_viewport = True
        context.evaluated_depsgraph_get().update()
    if len({len(values) for values in coordinates}) != 1:
        if mesh is not None:
            bpy.data.meshes.remove(mesh)
        raise TargetError(f"'{obj.name}': its modifiers ({', '.join(baked_modifiers(obj))}) change the mesh's "
                          "points from one shape key to another, so the keys cannot be exported through them: "
                          "apply or disable them")
    return coordinates, mesh


def _dress_like(copy, obj, context) -> None:
    """The copy stands where the face stands, moves as it moves and is skinned as it is."""
    for collection in obj.users_collection:
        collection.objects.link(copy)
    copy.parent, copy.parent_type, copy.parent_bone = obj.parent, obj.parent_type, obj.parent_bone
    copy.matrix_parent_inverse = obj.matrix_parent_inverse.copy()
    copy.rotation_mode = obj.rotation_mode
    for name in ("location", "rotation_euler", "rotation_quaternion", "scale", "delta_location",
                 "delta_rotation_euler", "delta_rotation_quaternion", "delta_scale"):
        setattr(copy, name, getattr(obj, name))
    for modifier in obj.modifiers:
        if modifier.type == "ARMATURE":
            copy.modifiers.new(modifier.name, "ARMATURE").object = modifier.object
    if obj.animation_data is not None:  # the head's turn, where the face object itself turns
        _copy_animation(obj.animation_data, copy.animation_data_create())
    copy.select_set(obj.select_get())


def _add_keys(copy, obj, coordinates: list[array]) -> None:
    blocks = obj.data.shape_keys.key_blocks
    for index, block in enumerate(blocks):
        key = copy.shape_key_add(name=block.name, from_mix=False)
        key.data.foreach_set("co", coordinates[index])
        key.slider_min, key.slider_max, key.mute, key.value = block.slider_min, block.slider_max, block.mute, block.value
    source = obj.data.shape_keys.animation_data
    if source is not None:
        _copy_animation(source, copy.data.shape_keys.animation_data_create())


def _copy_animation(source, target) -> None:
    target.action = source.action
    if getattr(source, "action_slot", None) is not None:
        target.action_slot = source.action_slot
    target.action_blend_type, target.action_influence = source.action_blend_type, source.action_influence
    copy_tracks(source, target)
