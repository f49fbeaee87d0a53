"""Writing a curves document onto a face: its shape keys (as NLA layers or one Action), the jaw bone, the head
and eye bones (or the face object's own turn), and a listener's layer. Everything that can refuse is
checked before the first write; a line's earlier result leaves every other face and the other form."""

from __future__ import annotations

import math

from .hand_keys import check_or_push_down, masking_paths
from .head_rig import EYE_LOOK_KEYS, HeadRig, eye_channels, find_head_rig, head_channels
from .key_poses import closure_indices
from .keyframes import (
    build_bone_rotation_action, build_channels_action, build_shape_key_action, check_keyable, resample_count,
    resample_linear, rest_action, write_bone_rotation_action, write_shape_key_action,
)
from .nla_layers import LAYER_TRACKS, LINE_PROPERTY, ensure_rest, place_layer, release_line
from .sequencer import scene_fps
from .targets import Target, channel_values, find_target, layer_channel_values, running_layer_sums

LAYERS = tuple(name for name in LAYER_TRACKS if name != "listening")  # a line's own; listening is another's


def check_target_keyable(target: Target) -> None:
    """The face's shape keys (and its jaw bone's armature) can take a new Action that will be saved."""
    check_keyable(target.obj.data.shape_keys, target.obj.name)
    if target.jaw_bone is not None:
        check_keyable(target.jaw_bone[0], target.jaw_bone[0].name)


def apply_curves(scene, obj, curves: dict, *, start_frame: float, action_name: str, line: str | None = None,
                 layers: tuple[str, ...] | None = None, said: list[str] | None = None) -> list:
    """Write a curves document onto a target; returns the Actions made. With `layers` (and a layered
    document), each layer is an NLA strip of `line` (the line's id) on its own track; otherwise one new
    active Action. The line's earlier result leaves every other face and the other form (layers or one
    Action); `said` gets the faces it left.

    Everything that can refuse (target, channels) is checked before the first write.
    """
    target = find_target(obj)
    check_target_keyable(target)
    rig = find_head_rig(target.obj)
    owners = _head_and_eye_owners(rig, curves, layers)
    for id_data in owners:
        check_keyable(id_data, id_data.name)
    line = line or action_name
    layered = bool(layers) and "layers" in curves["arkit"]
    pushed = check_or_push_down(hand_keys_in_the_way(target, rig, layered=layered),
                                scene.avi_talking.push_down_hand_keys)
    if said is not None:
        said += [f"your keys moved to the NLA track '{name}' below the layers" for name in pushed]
    here = {target.obj.data.shape_keys, *owners} | ({target.jaw_bone[0]} if target.jaw_bone else set())
    left = release_line(line, keep_layers_on=here if layered else set(), layers=LAYERS)
    if said is not None:
        said += [name for name in left if name != target.obj.name]
    fps = scene_fps(scene)
    count = resample_count(curves["num_frames"], curves["fps"], fps)  # keys at the scene's rate
    poses = closure_indices(curves["phones"], fps, count) if scene.avi_talking.key_density == "POSES" else None
    timing = {"start_frame": start_frame, "curves_fps": curves["fps"], "scene_fps": fps, "key_poses_at": poses}
    if layered:
        actions = _write_layers(target, rig, curves, layers, line, action_name, timing)
    else:
        values = _eye_keys_left_to_bones(target, rig, channel_values(target, curves))
        actions = [write_shape_key_action(target.obj, values, action_name=action_name, **timing)]
        if target.jaw_bone is not None:
            armature, bone = target.jaw_bone
            actions.append(write_bone_rotation_action(armature, bone, curves["flame"]["jaw"],
                                                      action_name=f"{action_name}_jaw", **timing))
        for action in actions:
            action[LINE_PROPERTY] = line  # found again by release_line: one line, one result
    actions += _write_head_and_eyes(rig, curves, layers, line, action_name, timing)
    end = math.ceil(start_frame + count - 1)
    if scene.frame_end < end:
        scene.frame_end = end  # the whole line plays without the animator hunting for the range
    return actions


def hand_keys_in_the_way(target: Target, rig: HeadRig, *, layered: bool) -> list[tuple]:
    """(what, its active Action's data paths) where the animator's own active Action would replace what
    this Generate writes as NLA strips: the shape keys and the jaw (with layers), the head and eye bones or
    the face object's delta transform (always strips)."""
    found = []
    if layered:
        keys = {f'key_blocks["{name}"].value' for name in target.keyed}
        found.append((target.obj.data.shape_keys, masking_paths(target.obj.data.shape_keys, keys)))
    bones = [bone for bone in (rig.head_bone, *(rig.eye_bones or ())) if bone]
    if layered and target.jaw_bone is not None:
        armature, jaw = target.jaw_bone
        found.append((armature, masking_paths(armature, lambda p: p.startswith(f'pose.bones["{jaw}"].rotation'))))
    if rig.armature is not None and bones:
        prefixes = tuple(f'pose.bones["{bone}"].rotation' for bone in bones)
        found.append((rig.armature, masking_paths(rig.armature, lambda p: p.startswith(prefixes))))
    if rig.head_bone is None:
        found.append((rig.face, masking_paths(rig.face, lambda p: p.startswith("delta_"))))
    return found


def _head_and_eye_owners(rig: HeadRig, curves: dict, layers: tuple[str, ...] | None) -> list:
    """What the head and eye motion of `curves` will key: the armature, or the face object itself."""
    owners = []
    if "head" in curves and (layers is None or "head" in layers):
        owners.append(rig.armature if rig.head_bone is not None else rig.face)
    if "eyes" in curves and rig.eye_bones is not None and (layers is None or "eyes" in layers):
        owners.append(rig.armature)
    return owners


def _eye_keys_left_to_bones(target: Target, rig: HeadRig, values: dict[str, list[float]]) -> dict[str, list[float]]:
    """Shape-key values less the eyeLook keys where the rig turns its eyes with bones (the lids still follow)."""
    if rig.eye_bones is None:
        return values
    looks = {target.key_for_channel[c] for c in EYE_LOOK_KEYS if c in target.key_for_channel}
    return {key: series for key, series in values.items() if key not in looks}


def _resampled_rows(rows: list[list[float]], timing: dict) -> list[tuple[float, ...]]:
    # Head and eye angles are small, so resampling each component linearly is exact enough.
    columns = [resample_linear([row[i] for row in rows], timing["curves_fps"], timing["scene_fps"])
               for i in range(len(rows[0]))]
    return list(zip(*columns))


def _motion_channels(rig: HeadRig, curves: dict, timing: dict, *, head: bool, eyes: bool) -> list[tuple]:
    """(layer, what it keys, {data path: values per frame}) of the head's and the eye bones' motion in
    `curves`, at the scene's rate: the head on the armature (or the face object), the eyes on eye bones."""
    out = []
    if head and "head" in curves:
        owner, channels = head_channels(rig, _resampled_rows(curves["head"]["rotation"], timing))
        out.append(("head", owner, channels))
    if eyes and "eyes" in curves and rig.eye_bones is not None:
        out.append(("eyes", rig.armature, eye_channels(rig, _resampled_rows(curves["eyes"]["left"], timing),
                                                       _resampled_rows(curves["eyes"]["right"], timing))))
    return out


def _write_head_and_eyes(rig: HeadRig, curves: dict, layers: tuple[str, ...] | None, line: str, action_name: str,
                         timing: dict) -> list:
    """The head's and eyes' motion as `line`'s strips on the AVI head and AVI eyes tracks of the armature (or,
    without one, the head's on the face object's own AVI head track), in Combine mode over the animator's."""
    actions = []
    for layer, owner, channels in _motion_channels(rig, curves, timing, head=layers is None or "head" in layers,
                                                   eyes=layers is None or "eyes" in layers):
        action, slot = build_channels_action(owner, channels, start_frame=timing["start_frame"],
                                             action_name=f"{action_name} {layer}",
                                             key_poses=timing["key_poses_at"] is not None)
        place_layer(owner, action, slot, line=line, layer=layer, blend_type="COMBINE")
        actions.append(action)
    return actions


def write_head_and_eyes(rig: HeadRig, motion: dict, *, line: str, action_name: str, start_frame: float,
                        fps: float) -> list:
    """`motion`'s head and eye rotations (a curves document's `head` and `eyes` blocks, at the scene's rate
    `fps`) alone, as `line`'s strips on the AVI head and AVI eyes tracks; every owner is checked first."""
    for id_data in _head_and_eye_owners(rig, motion, None):
        check_keyable(id_data, id_data.name)
    timing = {"start_frame": start_frame, "curves_fps": fps, "scene_fps": fps, "key_poses_at": None}
    return _write_head_and_eyes(rig, motion, None, line, action_name, timing)


def write_listening(scene, obj, curves: dict, *, start_frame: float, line: str, label: str) -> list:
    """A listener's curves as `line`'s strips (`line`: the line's id, `label`: its strip's name) on the face's AVI listening tracks: its shape keys (Add) and
    its head and eyes (Combine), over whatever else the face plays."""
    target = find_target(obj)
    rig = find_head_rig(target.obj)
    for id_data in [target.obj.data.shape_keys] + _head_and_eye_owners(rig, curves, None):
        check_keyable(id_data, id_data.name)
    fps = scene_fps(scene)
    timing = {"start_frame": start_frame, "curves_fps": curves["fps"], "scene_fps": fps, "key_poses_at": None}
    key = target.obj.data.shape_keys
    values = _eye_keys_left_to_bones(target, rig, channel_values(target, curves))
    ensure_rest(key, [f'key_blocks["{name}"].value' for name in values],
                lambda name, wanted: rest_action(name, key, wanted))
    action, slot = build_shape_key_action(target.obj, values, action_name=f"AVI_{label} listening", **timing)
    place_layer(key, action, slot, line=line, layer="listening")
    actions = [action]
    channels_by_owner: dict = {}  # one listening strip per armature or object: head and eyes together
    for _, owner, channels in _motion_channels(rig, curves, timing, head=True, eyes=True):
        channels_by_owner.setdefault(owner, {}).update(channels)
    for owner, channels in channels_by_owner.items():
        action, slot = build_channels_action(owner, channels, start_frame=start_frame,
                                             action_name=f"AVI_{label} listening {owner.name}")
        place_layer(owner, action, slot, line=line, layer="listening", blend_type="COMBINE")
        actions.append(action)
    return actions


def _write_layers(target, rig: HeadRig, curves: dict, layers: tuple[str, ...], line: str, action_name: str,
                  timing: dict) -> list:
    actions = []
    key = target.obj.data.shape_keys
    sums = running_layer_sums(curves)
    values_by_layer = layer_channel_values(target, curves, layers, sums)
    if "eyes" in values_by_layer:
        values_by_layer["eyes"] = _eye_keys_left_to_bones(target, rig, values_by_layer["eyes"])
    paths = sorted({f'key_blocks["{name}"].value' for values in values_by_layer.values() for name in values})
    ensure_rest(key, paths, lambda name, wanted: rest_action(name, key, wanted))
    for layer, values in values_by_layer.items():
        action, slot = build_shape_key_action(target.obj, values, action_name=f"{action_name} {layer}", **timing)
        place_layer(key, action, slot, line=line, layer=layer)
        actions.append(action)
        if target.jaw_bone is not None and layer in ("lips", "expression"):  # the others move no jaw
            armature, bone = target.jaw_bone
            below, total = _jaw_running_sums(sums, layer)
            jaw, jaw_slot = build_bone_rotation_action(armature, bone, total, minus=below,
                                                       action_name=f"{action_name} {layer} jaw", **timing)
            place_layer(armature, jaw, jaw_slot, line=line, layer=layer)
            actions.append(jaw)
    return actions


def _jaw_running_sums(sums: list[tuple[str, tuple]], layer: str) -> tuple[list | None, list]:
    """The jaw axis-angles of the layers below `layer` (None for the first) and up to it."""
    below = None
    for name, (_, _, jaw) in sums:
        if name == layer:
            return below, jaw
        below = jaw
    raise KeyError(layer)
