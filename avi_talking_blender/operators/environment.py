"""Set Up Model Environment / Remove: the one-click set-up in the preferences (model_environment.py
does the work on a worker thread; these operators show its progress, cancel it and finish on the
main thread: the interpreter filled in, and the model process started once to prove it works)."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import bpy

from .. import server_process
from ..model_environment import ENV_FOLDER, LOG_NAME, EnvironmentSetup, environment_python, remove_environment
from ..preferences import AVI_TALKING_Preferences, get_preferences
from .job_operator import connection_from_preferences

_running: EnvironmentSetup | None = None


def environment_folder() -> Path:
    root = bpy.utils.extension_path_user(AVI_TALKING_Preferences.bl_idname, create=True)
    return Path(root) / ENV_FOLDER


def prove_it_works(context) -> str:
    """Start the model process with the new interpreter and ask it for its health."""
    health = connection_from_preferences(context).client().health()
    return f"the model process {health.get('version', '')} answered"


class AVI_TALKING_OT_setup_environment(bpy.types.Operator):
    """Make (or repair) the model process's Python environment in the extension's folder: pip installs the pinned packages (needs the network to the package index)"""

    bl_idname = "avi_talking.setup_environment"
    bl_label = "Set Up Model Environment"
    bl_options = {"REGISTER"}
    _timer = None

    @classmethod
    def poll(cls, context):
        return _running is None or _running.state != "running"

    def _begin(self, context) -> EnvironmentSetup:
        global _running
        prefs = get_preferences(context)
        python = bpy.path.abspath(prefs.setup_python) if prefs and prefs.setup_python else sys.executable
        _running = EnvironmentSetup(python, environment_folder(), server_process.package_root())
        threading.Thread(target=_running.run, name="avi-talking-setup", daemon=True).start()
        return _running

    def invoke(self, context, event):
        self._begin(context)
        wm = context.window_manager
        self._timer = wm.event_timer_add(0.25, window=context.window)
        wm.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        if event.type == "ESC" and event.value == "PRESS":
            _running.cancel()
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        if _running.state == "running":
            context.workspace.status_text_set(
                f"AVI-Talking set-up: {_running.stage} ({_running.progress:.0%}) — Esc to cancel")
            return {"PASS_THROUGH"}
        context.window_manager.event_timer_remove(self._timer)
        context.workspace.status_text_set(None)
        return self._finish(context, _running)

    def execute(self, context):
        setup, last = self._begin(context), None
        while setup.state == "running":  # scripts and background mode: wait in place, printing progress
            if (setup.stage, round(setup.progress, 1)) != last:
                last = (setup.stage, round(setup.progress, 1))
                print(f"AVI-Talking set-up: {setup.stage} ({setup.progress:.0%})", flush=True)
            time.sleep(0.2)
        return self._finish(context, setup)

    def _finish(self, context, setup: EnvironmentSetup):
        prefs = get_preferences(context)
        if setup.state == "cancelled":
            prefs.setup_status = "set-up cancelled; run it again to finish (what was installed is kept)"
            self.report({"WARNING"}, f"AVI-Talking: {prefs.setup_status}")
            return {"CANCELLED"}
        if setup.state == "failed":
            prefs.setup_status = setup.error
            self.report({"ERROR"}, setup.error)
            return {"CANCELLED"}
        prefs.python_path, prefs.server_mode = str(environment_python(setup.folder)), "LOCAL"
        try:
            answered = prove_it_works(context)
        except Exception as err:  # the environment is there but the process does not start: say why
            prefs.setup_status = f"installed, but the model process did not start: {err} (log: {setup.log})"
            self.report({"ERROR"}, prefs.setup_status)
            return {"CANCELLED"}
        prefs.setup_status = f"ready: {setup.folder} ({answered})"
        self.report({"INFO"}, f"AVI-Talking: model environment {prefs.setup_status}")
        return {"FINISHED"}


class AVI_TALKING_OT_remove_environment(bpy.types.Operator):
    """Delete the model environment that Set Up made (the model process using it is stopped first)"""

    bl_idname = "avi_talking.remove_environment"
    bl_label = "Remove Model Environment"
    bl_options = {"REGISTER"}

    def execute(self, context):
        folder, prefs = environment_folder(), get_preferences(context)
        if not folder.exists():
            self.report({"WARNING"}, "AVI-Talking: there is no model environment to remove")
            return {"CANCELLED"}
        if prefs.python_path and Path(bpy.path.abspath(prefs.python_path)).is_relative_to(folder):
            server_process.stop()
            prefs.python_path = ""
        try:
            remove_environment(folder)
        except OSError as err:
            self.report({"ERROR"}, f"cannot remove {folder}: {err.strerror or err}")
            return {"CANCELLED"}
        prefs.setup_status = "removed"
        self.report({"INFO"}, f"AVI-Talking: removed {folder}")
        return {"FINISHED"}


class AVI_TALKING_OT_open_setup_log(bpy.types.Operator):
    """Open the set-up log (pip's full output) in Blender's Text Editor"""

    bl_idname = "avi_talking.open_setup_log"
    bl_label = "Open Set-Up Log"
    bl_options = {"REGISTER"}

    def execute(self, context):
        log = environment_folder().parent / LOG_NAME
        if not log.is_file():
            self.report({"WARNING"}, "AVI-Talking: no set-up has run yet")
            return {"CANCELLED"}
        text = bpy.data.texts.load(str(log))
        self.report({"INFO"}, f"AVI-Talking: the set-up log is the Text '{text.name}'")
        return {"FINISHED"}
