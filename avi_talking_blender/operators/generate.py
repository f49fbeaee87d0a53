"""Generate: speech + (edited) instruction → keyframes on the face, in a new Action."""

from __future__ import annotations

import base64
import math
from array import array
from dataclasses import dataclass, field
from typing import Callable

import bpy
from bpy.props import BoolProperty
from mathutils import Vector

from .. import jobs
from ..dialogue import faded, listening_envelope, scene_gaze
from ..formats import reading_sentence, validate_curves
from ..hand_keys import check_or_push_down, masking_paths
from ..head_rig import EYE_LOOK_KEYS, HeadRig, eye_channels, find_head_rig, head_channels
from ..keyframes import (
    build_bone_rotation_action, build_channels_action, build_shape_key_action, check_keyable, resample_count,
    resample_linear, rest_action, write_bone_rotation_action, write_shape_key_action,
)
from ..key_poses import closure_indices
from ..line_identity import sync_lines
from ..nla_layers import LAYER_TRACKS, LINE_PROPERTY, ensure_rest, place_layer, release_line
from ..preferences import get_preferences
from ..properties import dialogue_for, effective_seed, face_for, keep_recognized_dialogue, line_for
from ..scene_strips import key_place
from ..sequencer import SoundClip, StripError, active_sound_clip, scene_fps
from ..takes import replace_takes
from ..targets import (
    Target, TargetError, channel_values, driven_note, find_target, layer_channel_values, running_layer_sums,
)
from .job_operator import JobOperator, connection_from_preferences

LAYERS = tuple(name for name in LAYER_TRACKS if name != "listening")  # a line's own; listening is another's


def edited_instructions(settings, strip_name: str) -> tuple[str | None, list[dict] | None]:
    """The animator's text for this strip: its per-segment fields if Analyze wrote them, else its
    whole-line Text; none (the agent writes one) for a strip that has neither."""
    line = line_for(settings, strip_name, create=False)
    if line is None:
        return None, None
    whole = line.instruction_text.as_string().strip() if line.instruction_text else ""
    if settings.use_segments and line.segments and line.analyzed:
        segments = [{"start": s.start, "end": s.end, "instruction": s.instruction.strip() or whole}
                    for s in line.segments]
        if all(s["instruction"] for s in segments):
            return whole or None, segments
    return whole or None, None


def mesh_retarget_body(target: Target) -> dict:
    """A FLAME mesh's own expression basis (Exp keys − basis), so the retarget fits this very mesh.

    Coordinates go to FLAME's frame (y up, face towards +z) through the object's world rotation:
    a head standing upright and facing the front view (−Y) in Blender is what FLAME calls upright.
    """
    obj = target.obj
    linear = obj.matrix_world.to_3x3()
    keys = obj.data.shape_keys.key_blocks
    count = len(obj.data.vertices)

    def flame_frame(flat: array) -> list:
        out = []
        for i in range(count):
            x, y, z = linear @ Vector(flat[3 * i:3 * i + 3])
            out += (x, z, -y)
        return out

    basis = array("f", bytes(4 * 3 * count))
    keys[0].data.foreach_get("co", basis)
    exp_names = sorted((name for channel, name in target.key_for_channel.items() if channel.startswith("exp")),
                       key=lambda name: int(name[3:]))
    deltas = array("f")
    shape = array("f", bytes(4 * 3 * count))
    for name in exp_names:
        keys[name].data.foreach_get("co", shape)
        deltas.extend(flame_frame(array("f", (a - b for a, b in zip(shape, basis)))))
    encode = lambda values: base64.b64encode(array("f", values).tobytes()).decode()  # noqa: E731
    return {"num_vertices": count, "num_expressions": len(exp_names),
            "vertices_b64": encode(flame_frame(basis)), "expression_basis_b64": encode(deltas)}


@dataclass
class LineRequest:
    """One line (sound strip → face) gathered on the main thread: the worker only calls `submit` (and
    `listen` for each face listening to it); `apply` and `apply_listening` key the answers back on the
    main thread."""

    strip: str
    face: str
    submit: Callable
    apply: Callable
    listeners: list = field(default_factory=list)  # dialogue.ListenerSpec: the faces that listen to this line
    listen: Callable | None = None  # (client, the line's curves, a ListenerSpec) → the listener's curves
    apply_listening: Callable | None = None  # (context, ListenerSpec, its curves) → message


def line_request(context, clip: SoundClip, face, *, layers: tuple[str, ...] | None, gaze: dict | None = None,
                 listeners: list | None = None, noticed: list[str] = ()) -> LineRequest:
    """What to send for `clip` animating `face`, and how to key the answer (`layers`: the NLA layers to
    write, None: one Action; `gaze`: where eye contact is; `listeners`: the faces that listen to the line;
    `noticed`: what sync_lines found, for the report). Refuses (TargetError, NotKeyable) before anything
    is sent."""
    scene = context.scene
    settings = scene.avi_talking
    target = find_target(face)
    check_target_keyable(target)  # refused now, before the model process spends a minute on it
    if not settings.push_down_hand_keys:
        check_or_push_down(hand_keys_in_the_way(target, find_head_rig(target.obj), layered=layers is not None),
                           push_down=False)
    fps = scene_fps(scene)
    instruction, segments = edited_instructions(settings, clip.name)
    dialogue = dialogue_for(settings, clip.name)
    prefs = get_preferences(context)
    seed = effective_seed(settings, prefs)
    samples, guidance, synthesis, language = settings.samples, settings.guidance, settings.synthesis, settings.language
    head_motion = settings.head_motion
    retarget = None
    if target.kind == "flame":  # fit to the user's FLAME file, else to the mesh's own Exp keys
        retarget = ({"flame_model_path": bpy.path.abspath(prefs.flame_model_path)}
                    if prefs and prefs.flame_model_path else mesh_retarget_body(target))
    target_name = target.obj.name
    line_id = line_for(settings, clip.name).line_id  # the line's layers carry it: a rename keeps them
    place = key_place(scene, target.obj, clip.start_frame, clip.end_frame)  # another scene's face: its frames

    def submit(client):
        retarget_id = client.create_retarget(retarget)["retarget_id"] if retarget else None
        return client.submit_animate(clip.path, transcript=dialogue, instruction=instruction,
                                     segments=segments, seed=seed, fps=fps, retarget_id=retarget_id,
                                     samples=samples, guidance=guidance, synthesis=synthesis,
                                     span=clip.request_span, layers=layers is not None, language=language,
                                     head_motion=head_motion, gaze=gaze)

    def listen(client, curves: dict, spec) -> dict:
        # The speaker's instructions as they were read (free text understood by meaning), for the echo.
        spoken = [{"start": seg["start"], "end": seg["end"],
                   "instruction": (seg.get("reading") or {}).get("read_as") or seg["instruction"]}
                  for seg in curves["segments"]]
        return client.listen({"duration": curves["num_frames"] / curves["fps"], "phones": curves["phones"],
                              "segments": spoken, "fps": curves["fps"], "seed": seed,
                              "head_motion": head_motion,
                              "gaze": {"points": spec.gaze_points} if spec.gaze_points else "camera"})

    def apply_listening(context, spec, curves: dict) -> str:
        validate_curves(curves)
        obj = bpy.data.objects.get(spec.face)
        if obj is None:
            raise TargetError(f"the face '{spec.face}' was removed while its listening was made")
        envelope = listening_envelope(clip.start_frame, curves["num_frames"], curves["fps"], spec.quiet)
        listener = key_place(context.scene, obj, clip.start_frame, clip.end_frame)
        write_listening(listener.of(), obj, faded(curves, envelope), start_frame=clip.start_frame + listener.offset,
                        line=line_id, label=clip.name)
        return f"'{spec.face}' listens"

    def apply(context, result: dict) -> str:
        takes = result.get("takes") or [result]  # the result itself is take 1
        for curves in takes:
            validate_curves(curves)
        obj = bpy.data.objects.get(target_name)
        if obj is None:
            raise TargetError(f"the face '{target_name}' was removed while its animation was generated")
        moved_from: list[str] = []
        actions = apply_curves(place.of(), obj, takes[0], start_frame=clip.start_frame + place.offset,
                               action_name=f"AVI_{clip.name}", line=line_id, layers=layers, said=moved_from)
        replace_takes(context.scene.avi_talking, clip.name, obj, takes, seed)
        keyed = resample_count(takes[0]["num_frames"], takes[0]["fps"], scene_fps(context.scene))
        where = (f"NLA layers {', '.join(layers)}" if layers else f"Action '{actions[0].name}'")
        message = f"keyed {keyed} frames of '{clip.name}' on '{target_name}' ({where})"
        if place.scene != context.scene.name:
            first = clip.start_frame + place.offset
            message += f" in the scene '{place.scene}' from its frame {first:g}, where the scene strip plays it"
        message += f"; {len(takes)} takes kept, Use Take switches" if len(takes) > 1 else ""
        message += language_note(takes[0]) + driven_note(find_target(obj)) + reading_note(takes[0])
        message += "".join(f"; taken off '{name}', which it animated before" for name in moved_from)
        message += "".join(f"; {note}" for note in noticed)
        return message + keep_recognized_dialogue(line_for(context.scene.avi_talking, clip.name), takes[0])

    return LineRequest(clip.name, target_name, submit, apply, list(listeners or []), listen, apply_listening)


def reading_note(curves: dict) -> str:
    """How each instruction was read, where it was not the grammar's own words: by meaning, or with words
    that changed nothing (the panel and the report say so; nothing passes in silence)."""
    notes = []
    for number, segment in enumerate(curves.get("segments") or [], start=1):
        reading = segment.get("reading") or {}
        if reading.get("by") in ("meaning", "nothing") or reading.get("unused"):
            where = f"segment {number}: " if len(curves["segments"]) > 1 else "instruction "
            notes.append(where + reading_sentence(reading))
    return "".join(f"; {note}" for note in notes)


def language_note(curves: dict) -> str:
    """What the status says about the language: which one was heard and whose phonemes timed the lips."""
    language = curves.get("language", "en")
    return f"; language {language} (phonemes from {curves.get('phoneme_source', 'pocketsphinx')})"


PARTS = {"EXPRESSION": ("expression",), "HEAD_AND_EYES": ("eyes", "head")}  # what a partial Generate writes
PART_NAMES = {"EXPRESSION": "Expression Only", "HEAD_AND_EYES": "Head & Eyes Only"}


def layers_to_write(settings, *, part: str = "ALL") -> tuple[str, ...] | None:
    """The line's layers a Generate writes: all of them, or only one part of them (the others stay as they
    are, hand edits included); None: one Action (Layers off)."""
    if not settings.use_layers:
        return None
    return PARTS.get(part, LAYERS)


def animate_job(context, *, part: str = "ALL") -> jobs.Job:
    """Generate for the active sound strip, on its line's face (or the scene's Face)."""
    scene = context.scene
    noticed = sync_lines(scene)  # renamed, copied or older-version strips are tied to their lines first
    try:
        clip = active_sound_clip(scene)
    except StripError:
        find_target(scene.avi_talking.target)  # no face either: that is the first thing to set
        raise
    if part in PARTS and not scene.avi_talking.use_layers:
        raise TargetError(f"{PART_NAMES[part]} needs Layers on: the rest of the line can only be kept when each "
                          "part is a layer of its own")
    face = face_for(scene.avi_talking, clip.name)
    gaze = scene_gaze(scene, face, clip.start_frame, clip.end_frame) if face is not None else None
    request = line_request(context, clip, face, layers=layers_to_write(scene.avi_talking, part=part), gaze=gaze,
                           noticed=noticed)
    return jobs.Job("generate", request.submit, request.apply, connection_from_preferences(context))


class AVI_TALKING_OT_generate(JobOperator, bpy.types.Operator):
    """Animate the face from the active sound strip and the instruction (NLA layers or a new Action, undoable; takes are kept)"""

    bl_idname = "avi_talking.generate"
    bl_label = "Generate"
    bl_options = {"REGISTER", "UNDO"}

    expression_only: BoolProperty(name="Expression Only", default=False, options={"SKIP_SAVE"},
                                  description="Write only the expression layer (after an instruction edit): "
                                              "the line's lips, eyes, blinks and head layers stay as they are")
    head_and_eyes_only: BoolProperty(name="Head & Eyes Only", default=False, options={"SKIP_SAVE"},
                                     description="Write only the head and eyes layers (after a Head motion, Gaze "
                                                 "or instruction edit): the lips, expression and blinks stay")

    def make_job(self, context):
        if self.expression_only and self.head_and_eyes_only:
            raise TargetError("choose one of Expression Only and Head & Eyes Only")
        part = "EXPRESSION" if self.expression_only else "HEAD_AND_EYES" if self.head_and_eyes_only else "ALL"
        return animate_job(context, part=part)


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
