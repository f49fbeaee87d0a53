"""Use Take: key another take of the last Generate, kept in the .blend, as a new Action."""

from __future__ import annotations

import bpy
from bpy.props import IntProperty

from .. import jobs
from ..curves_writer import apply_curves
from ..keyframes import resample_count
from ..properties import line_for
from ..sequencer import StripError, all_strips, key_start_frame, scene_fps
from ..takes import mark_in_use, read_take
from ..targets import TargetError
from .generate import layers_to_write
from .job_operator import USER_ERRORS


def use_take(scene, index: int) -> str:
    """Key take `index` of `scene.avi_talking.takes` on its face from its strip's start; returns the message."""
    settings = scene.avi_talking
    if not 0 <= index < len(settings.takes):
        raise ValueError(f"no take at position {index + 1}: generate with several takes first")
    take = settings.takes[index]
    curves = read_take(take)
    if take.face is None:
        raise TargetError(f"the face of take {take.number} was removed: generate again")
    strip = next((s for s in all_strips(scene) if s.name == take.strip), None)
    if strip is None:
        raise StripError(f"the sound strip '{take.strip}' of take {take.number} was removed or renamed")
    clip_start = (curves.get("clip") or {}).get("start", 0.0)  # the part of the file the take was made from
    actions = apply_curves(scene, take.face, curves, start_frame=key_start_frame(strip, scene_fps(scene), clip_start),
                           action_name=f"AVI_{take.strip}_take{take.number}", line=line_for(settings, take.strip).line_id,
                           layers=layers_to_write(settings))
    mark_in_use(settings, index)
    keyed = resample_count(curves["num_frames"], curves["fps"], scene_fps(scene))
    where = "its NLA layers" if "layers" in curves["arkit"] and settings.use_layers else f"Action '{actions[0].name}'"
    return f"take {take.number} (seed {take.seed}): keyed {keyed} frames on '{take.face.name}' in {where}"


class AVI_TALKING_OT_use_take(bpy.types.Operator):
    """Key this take on its face as a new Action (the previous Action is kept; undoable)"""

    bl_idname = "avi_talking.use_take"
    bl_label = "Use Take"
    bl_options = {"REGISTER", "UNDO"}

    index: IntProperty(name="Take", min=0, options={"SKIP_SAVE"}, description="Position in the list of takes")

    @classmethod
    def poll(cls, context):
        return context.scene is not None and len(context.scene.avi_talking.takes) > 0 and not jobs.running()

    def execute(self, context):
        try:
            message = use_take(context.scene, self.index)
        except USER_ERRORS as err:
            self.report({"ERROR"}, str(err))
            return {"CANCELLED"}
        context.scene.avi_talking.last_status = message
        self.report({"INFO"}, f"AVI-Talking: {message}")
        return {"FINISHED"}
