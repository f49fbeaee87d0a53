"""Cancel the running Analyze or Generate: the server drops the job and the scene stays as it was."""

from __future__ import annotations

import bpy

from .. import jobs


class AVI_TALKING_OT_cancel(bpy.types.Operator):
    """Cancel the running AVI-Talking job (nothing in the scene changes)"""

    bl_idname = "avi_talking.cancel"
    bl_label = "Cancel"

    @classmethod
    def poll(cls, context):
        return jobs.running()

    def execute(self, context):
        jobs.cancel_active()
        return {"FINISHED"}
