"""Live Link Face CSV: export the face's animation as played (every layer composed, head and eyes included)
for Unreal / MetaHuman, Maya and Houdini, and import such a CSV onto an ARKit rig as a new Action, its head and
eye columns onto the head and eye bones (or the face object's turn) as strips of their own (undoable)."""

from __future__ import annotations

from pathlib import Path

import bpy
from bpy.props import FloatProperty, StringProperty

from ..curves_writer import write_head_and_eyes
from ..formats import (
    LIVE_LINK_ROTATIONS as ROTATIONS, LiveLinkFormatError, eye_rotations_from_look_keys, read_live_link_csv,
    write_live_link_csv,
)
from ..head_rig import EYE_LOOK_KEYS, find_head_rig, played_eyes, played_head
from ..keyframes import NotKeyable, check_keyable, resample_at_times, write_shape_key_action
from ..nla_layers import LAYER_PROPERTY
from ..sequencer import scene_fps
from ..targets import TargetError, find_target
from .export import animated_face

MAX_CSV_BYTES = 256 * 1024 * 1024


def arkit_target(obj):
    target = find_target(obj)
    if target.kind != "arkit":
        raise TargetError(f"'{target.obj.name}' is a {target.kind} face: Live Link Face CSV carries ARKit's 52 "
                          "blendshapes, so it needs a face with ARKit shape keys")
    return target


def played_frames(scene, target, first: int, last: int) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    """Every frame first..last as Blender plays it (layers, NLA, the animator's keys): ({ARKit name: value},
    {Live Link rotation column: radians}): the head from its bone or the face object, the eyes from their
    bones, else from the eyeLook keys."""
    blocks = target.obj.data.shape_keys.key_blocks
    rig = find_head_rig(target.obj)
    current = scene.frame_current
    weights, rotations = [], []
    try:
        for frame in range(first, last + 1):
            scene.frame_set(frame)
            shapes = {channel: blocks[key].value for key, channel in target.keyed.items()}
            pitch, yaw, roll = played_head(rig)
            turns = {"HeadYaw": yaw, "HeadPitch": pitch, "HeadRoll": roll}
            eyes = played_eyes(rig)
            if eyes is None:
                turns.update(eye_rotations_from_look_keys(shapes))
            else:
                for side, (eye_yaw, eye_pitch) in zip(("Left", "Right"), eyes):
                    turns.update({f"{side}EyeYaw": eye_yaw, f"{side}EyePitch": eye_pitch})
            weights.append(shapes)
            rotations.append(turns)
    finally:
        scene.frame_set(current)
    return weights, rotations


class AVI_TALKING_OT_export_live_link(bpy.types.Operator):
    """Write the face's animation as a Live Link Face CSV (time 0 at the first generated frame)"""

    bl_idname = "avi_talking.export_live_link"
    bl_label = "Export Live Link CSV"
    bl_options = {"REGISTER"}

    filepath: StringProperty(subtype="FILE_PATH")

    def invoke(self, context, event):
        if not self.filepath:
            self.filepath = f"//{bpy.path.display_name_from_filepath(bpy.data.filepath) or 'face'}.csv"
        context.window_manager.fileselect_add(self)
        return {"RUNNING_MODAL"}

    def execute(self, context):
        scene = context.scene
        try:
            target, frames = animated_face(scene, arkit_target)
        except TargetError as err:
            self.report({"ERROR"}, str(err))
            return {"CANCELLED"}
        weights, rotations = played_frames(scene, target, *frames)
        text = write_live_link_csv(weights, scene_fps(scene), rotations)
        path = Path(bpy.path.abspath(self.filepath)).with_suffix(".csv")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(path.name + ".partial")
            partial.write_text(text, encoding="utf-8")
            partial.replace(path)  # a half-written file never replaces a good one
        except OSError as err:
            self.report({"ERROR"}, f"cannot write {path}: {err.strerror or err}")
            return {"CANCELLED"}
        self.report({"INFO"}, f"AVI-Talking: wrote {path} ({frames[1] - frames[0] + 1} frames at "
                              f"{scene_fps(scene):g} fps)")
        return {"FINISHED"}


class AVI_TALKING_OT_import_live_link(bpy.types.Operator):
    """Key a Live Link Face CSV onto the face (ARKit shape keys) from the current frame, as a new Action"""

    bl_idname = "avi_talking.import_live_link"
    bl_label = "Import Live Link CSV"
    bl_options = {"REGISTER", "UNDO"}

    filepath: StringProperty(subtype="FILE_PATH")
    filter_glob: StringProperty(default="*.csv", options={"HIDDEN"})
    source_fps: FloatProperty(name="Recorded at (fps)", default=0.0, min=0.0, max=240.0,
                              description="Frame rate the CSV's timecodes count, for a take too short (under two "
                                          "seconds) to read it from them; 0: the scene's rate")

    def invoke(self, context, event):
        context.window_manager.fileselect_add(self)
        return {"RUNNING_MODAL"}

    def execute(self, context):
        scene = context.scene
        path = Path(bpy.path.abspath(self.filepath))
        try:
            target = arkit_target(scene.avi_talking.target)
            check_keyable(target.obj.data.shape_keys, target.obj.name)
            if path.stat().st_size > MAX_CSV_BYTES:
                raise LiveLinkFormatError(f"{path.name} is {path.stat().st_size / 1e6:.0f} MB; a Live Link take of "
                                          f"an hour is about 130 MB: split it")
            take = read_live_link_csv(path.read_text(encoding="utf-8-sig"), self.source_fps or scene_fps(scene))
        except (TargetError, NotKeyable, LiveLinkFormatError) as err:
            self.report({"ERROR"}, str(err))
            return {"CANCELLED"}
        except (OSError, UnicodeDecodeError) as err:
            self.report({"ERROR"}, f"cannot read {path.name}: {getattr(err, 'strerror', None) or err}")
            return {"CANCELLED"}
        channel_key = {channel: key for key, channel in target.keyed.items()}
        fps = scene_fps(scene)
        rig = find_head_rig(target.obj)
        turns = {name: resample_at_times(take.times, take.values[name], fps) for name in ROTATIONS
                 if name in take.values}
        eyes_on_bones = rig.eye_bones is not None and {"LeftEyeYaw", "RightEyeYaw"} <= turns.keys()
        keyed = {channel_key[name]: resample_at_times(take.times, series, fps)
                 for name, series in take.values.items() if name in channel_key
                 and not (eyes_on_bones and name in EYE_LOOK_KEYS)}  # the eye bones turn the eyes instead
        if not keyed:
            self.report({"ERROR"}, f"none of the CSV's blendshapes is a shape key of '{target.obj.name}'")
            return {"CANCELLED"}
        name = f"LiveLink_{path.stem}"
        try:
            moved = write_head_and_eyes(rig, head_and_eye_motion(turns, eyes_on_bones), line=name, action_name=name,
                                        start_frame=scene.frame_current, fps=fps)
        except NotKeyable as err:
            self.report({"ERROR"}, str(err))
            return {"CANCELLED"}
        action = write_shape_key_action(target.obj, keyed, start_frame=scene.frame_current, curves_fps=fps,
                                        scene_fps=fps, action_name=name)
        count = len(next(iter(keyed.values())))
        source = "read from its timecodes" if take.rate_from == "timecodes" else \
            "given: the take is too short to read it from its timecodes"
        self.report({"INFO"}, f"AVI-Talking: keyed {len(keyed)} shape keys over {count} frames from {path.name} "
                              f"(recorded at {take.rate:g} fps, {source}) in Action '{action.name}'"
                              + "".join(f"; {_turned(rig, action[LAYER_PROPERTY])}" for action in moved))
        return {"FINISHED"}


def head_and_eye_motion(turns: dict[str, list[float]], eyes: bool) -> dict:
    """The take's head and eye columns (radians, the app's signs: the curves' head frame, per scene frame)
    as a curves document's `head` and `eyes` blocks; the eyes only where the rig turns them with bones."""
    motion = {}
    if {"HeadPitch", "HeadYaw", "HeadRoll"} <= turns.keys():
        motion["head"] = {"rotation": list(zip(turns["HeadPitch"], turns["HeadYaw"], turns["HeadRoll"]))}
    if eyes:
        pitch = {side: turns.get(f"{side}EyePitch", [0.0] * len(turns[f"{side}EyeYaw"])) for side in ("Left", "Right")}
        motion["eyes"] = {key: list(zip(turns[f"{side}EyeYaw"], pitch[side]))
                          for key, side in (("left", "Left"), ("right", "Right"))}
    return motion


def _turned(rig, layer: str) -> str:
    if layer == "head":
        return f"the head turns on {rig.head_line.removeprefix('Head: ')}"
    return f"the eyes on bones '{rig.eye_bones[0]}', '{rig.eye_bones[1]}'"
