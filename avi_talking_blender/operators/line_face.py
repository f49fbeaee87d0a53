"""Use Selected as Line's Face: the active strip's line animates the selected mesh (a character per
strip for Generate All), made without hunting for the line's field first."""

from __future__ import annotations

import bpy

from ..properties import line_for
from ..sequencer import StripError, active_sound_clip
from ..targets import TargetError, find_target


class AVI_TALKING_OT_use_selected_as_line_face(bpy.types.Operator):
    """The active sound strip's line animates the active mesh (undoable)"""

    bl_idname = "avi_talking.use_selected_as_line_face"
    bl_label = "Use Selected as Line's Face"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        face = context.view_layer.objects.active
        try:
            strip = active_sound_clip(context.scene).name
            if face is None or face.type != "MESH":
                raise TargetError("select the character's face mesh first (it must be the active object)")
            find_target(face)  # a mesh that cannot be animated is refused now, not at Generate
        except (StripError, TargetError) as err:
            self.report({"ERROR"}, str(err))
            return {"CANCELLED"}
        line_for(context.scene.avi_talking, strip).face = face
        self.report({"INFO"}, f"AVI-Talking: '{strip}' animates '{face.name}'")
        return {"FINISHED"}
