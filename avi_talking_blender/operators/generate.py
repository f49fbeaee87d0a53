"""Generate: speech + (edited) instruction → keyframes on the face, in a new Action."""

from __future__ import annotations

import base64
from array import array

import bpy
from mathutils import Vector

from .. import jobs
from ..formats import validate_curves
from ..keyframes import key_frames, write_bone_rotation_action, write_shape_key_action
from ..preferences import get_preferences
from ..sequencer import active_sound_clip, scene_fps
from ..targets import Target, channel_values, find_target
from .job_operator import JobOperator, connection_from_preferences


def edited_instructions(settings, strip_name: str) -> tuple[str | None, list[dict] | None]:
    """The animator's text: per-segment fields if written for this strip, else the whole-clip Text."""
    whole = settings.instruction_text.as_string().strip() if settings.instruction_text else ""
    if settings.use_segments and settings.segments and settings.analyzed_strip == strip_name:
        segments = [{"start": s.start, "end": s.end, "instruction": s.instruction.strip() or whole}
                    for s in settings.segments]
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


class AVI_TALKING_OT_generate(JobOperator, bpy.types.Operator):
    """Animate the face from the active sound strip and the instruction (a new Action, undoable)"""

    bl_idname = "avi_talking.generate"
    bl_label = "Generate"
    bl_options = {"REGISTER", "UNDO"}

    def create_job(self, context) -> jobs.Job:
        scene = context.scene
        settings = scene.avi_talking
        target = find_target(settings.target)
        clip = active_sound_clip(scene)
        fps = scene_fps(scene)
        instruction, segments = edited_instructions(settings, clip.name)
        dialogue = settings.dialogue.strip() or None
        prefs = get_preferences(context)
        retarget = None
        if target.kind == "flame":  # fit to the user's FLAME file, else to the mesh's own Exp keys
            retarget = ({"flame_model_path": bpy.path.abspath(prefs.flame_model_path)}
                        if prefs and prefs.flame_model_path else mesh_retarget_body(target))
        self._target_name, self._clip = target.obj.name, clip

        def submit(client):
            retarget_id = client.create_retarget(retarget)["retarget_id"] if retarget else None
            return client.submit_animate(clip.path, transcript=dialogue, instruction=instruction,
                                         segments=segments, seed=settings.seed, fps=fps, retarget_id=retarget_id)

        return jobs.Job("animate", submit, connection_from_preferences(context))

    def apply(self, context, curves: dict) -> None:
        validate_curves(curves)
        apply_curves(context.scene, bpy.data.objects.get(self._target_name), curves,
                     start_frame=self._clip.start_frame, action_name=f"AVI_{self._clip.name}")
        self.report({"INFO"}, f"AVI-Talking: keyed {curves['num_frames']} frames on '{self._target_name}'")


def apply_curves(scene, obj, curves: dict, *, start_frame: float, action_name: str) -> list:
    """Write a curves document onto a target as new Actions; returns the Actions made."""
    target = find_target(obj)
    frames = key_frames(curves["num_frames"], start_frame, curves["fps"], scene_fps(scene))
    actions = [write_shape_key_action(target.obj, channel_values(target, curves), frames=frames,
                                      action_name=action_name)]
    if target.jaw_bone is not None:
        armature, bone = target.jaw_bone
        actions.append(write_bone_rotation_action(armature, bone, curves["flame"]["jaw"], frames=frames,
                                                  action_name=f"{action_name}_jaw"))
    end = int(frames[-1]) + 1
    if scene.frame_end < end:
        scene.frame_end = end  # the whole line plays without the animator hunting for the range
    return actions
