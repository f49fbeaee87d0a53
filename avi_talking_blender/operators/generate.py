"""Generate: speech + (edited) instruction → keyframes on the face, in a new Action."""

from __future__ import annotations

import base64
import math
from array import array

import bpy
from mathutils import Vector

from .. import jobs
from ..formats import validate_curves
from ..keyframes import check_keyable, resample_count, write_bone_rotation_action, write_shape_key_action
from ..preferences import get_preferences
from ..properties import dialogue_for, effective_seed, keep_recognized_dialogue, line_for
from ..sequencer import active_sound_clip, scene_fps
from ..takes import replace_takes
from ..targets import Target, TargetError, channel_values, find_target
from .job_operator import JobOperator, connection_from_preferences


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


def animate_job(context) -> jobs.Job:
    """Gather everything on the main thread (target, strip, edited instruction); the worker only talks
    to the server, and the result is keyed by `apply_curves` back on the main thread."""
    scene = context.scene
    settings = scene.avi_talking
    target = find_target(settings.target)
    check_target_keyable(target)  # refused now, before the model process spends a minute on it
    clip = active_sound_clip(scene)
    fps = scene_fps(scene)
    instruction, segments = edited_instructions(settings, clip.name)
    dialogue = dialogue_for(settings, clip.name)
    prefs = get_preferences(context)
    seed = effective_seed(settings, prefs)
    samples, guidance, synthesis = settings.samples, settings.guidance, settings.synthesis
    retarget = None
    if target.kind == "flame":  # fit to the user's FLAME file, else to the mesh's own Exp keys
        retarget = ({"flame_model_path": bpy.path.abspath(prefs.flame_model_path)}
                    if prefs and prefs.flame_model_path else mesh_retarget_body(target))
    target_name = target.obj.name

    def submit(client):
        retarget_id = client.create_retarget(retarget)["retarget_id"] if retarget else None
        return client.submit_animate(clip.path, transcript=dialogue, instruction=instruction,
                                     segments=segments, seed=seed, fps=fps, retarget_id=retarget_id,
                                     samples=samples, guidance=guidance, synthesis=synthesis,
                                     span=clip.request_span)

    def apply(context, result: dict) -> str:
        takes = result.get("takes") or [result]  # the result itself is take 1
        for curves in takes:
            validate_curves(curves)
        obj = bpy.data.objects.get(target_name)
        if obj is None:
            raise TargetError(f"the face '{target_name}' was removed while its animation was generated")
        actions = apply_curves(context.scene, obj, takes[0], start_frame=clip.start_frame,
                               action_name=f"AVI_{clip.name}")
        replace_takes(context.scene.avi_talking, clip.name, obj, takes, seed)
        keyed = resample_count(takes[0]["num_frames"], takes[0]["fps"], scene_fps(context.scene))
        message = f"keyed {keyed} frames on '{target_name}' in Action '{actions[0].name}'"
        message += f"; {len(takes)} takes kept, Use Take switches" if len(takes) > 1 else ""
        return message + keep_recognized_dialogue(line_for(context.scene.avi_talking, clip.name), takes[0])

    return jobs.Job("generate", submit, apply, connection_from_preferences(context))


class AVI_TALKING_OT_generate(JobOperator, bpy.types.Operator):
    """Animate the face from the active sound strip and the instruction (a new Action, undoable; takes are kept)"""

    bl_idname = "avi_talking.generate"
    bl_label = "Generate"
    bl_options = {"REGISTER", "UNDO"}

    make_job = staticmethod(animate_job)


def check_target_keyable(target: Target) -> None:
    """The face's shape keys (and its jaw bone's armature) can take a new Action that will be saved."""
    check_keyable(target.obj.data.shape_keys, target.obj.name)
    if target.jaw_bone is not None:
        check_keyable(target.jaw_bone[0], target.jaw_bone[0].name)


def apply_curves(scene, obj, curves: dict, *, start_frame: float, action_name: str) -> list:
    """Write a curves document onto a target as new Actions; returns the Actions made.

    Everything that can refuse (target, channels) is checked before the first write.
    """
    target = find_target(obj)
    check_target_keyable(target)
    values = channel_values(target, curves)
    timing = {"start_frame": start_frame, "curves_fps": curves["fps"], "scene_fps": scene_fps(scene)}
    actions = [write_shape_key_action(target.obj, values, action_name=action_name, **timing)]
    if target.jaw_bone is not None:
        armature, bone = target.jaw_bone
        actions.append(write_bone_rotation_action(armature, bone, curves["flame"]["jaw"],
                                                  action_name=f"{action_name}_jaw", **timing))
    end = math.ceil(start_frame + resample_count(curves["num_frames"], curves["fps"], scene_fps(scene)) - 1)
    if scene.frame_end < end:
        scene.frame_end = end  # the whole line plays without the animator hunting for the range
    return actions
