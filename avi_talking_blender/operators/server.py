"""Start and stop the local model process."""

from __future__ import annotations

import bpy

from .. import server_process
from .job_operator import connection_from_preferences


class AVI_TALKING_OT_start_server(bpy.types.Operator):
    """Start the local model process (it stops when Blender exits)"""

    bl_idname = "avi_talking.start_server"
    bl_label = "Start Server"

    def execute(self, context):
        connection = connection_from_preferences(context)
        if connection.mode == "REMOTE":
            self.report({"INFO"}, "AVI-Talking uses the remote server from the preferences")
            return {"CANCELLED"}
        try:
            server = server_process.start(connection.python, list(connection.server_args))
            if bpy.app.background:  # scripts want a ready server when this returns
                server_process.wait_ready(server)
        except server_process.ServerStartError as err:
            self.report({"ERROR"}, str(err))
            return {"CANCELLED"}
        return {"FINISHED"}


class AVI_TALKING_OT_stop_server(bpy.types.Operator):
    """Stop the local model process"""

    bl_idname = "avi_talking.stop_server"
    bl_label = "Stop Server"

    def execute(self, context):
        server_process.stop()
        return {"FINISHED"}

