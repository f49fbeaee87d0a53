"""Shared behaviour of operators that wait on the model process without freezing Blender.

From the UI (`invoke`) they run modally: a timer polls the worker thread, panels show progress,
Esc or the Cancel button stops the server job. From scripts and background mode (`execute`) they
wait in place. Either way the result is applied on the main thread by `apply`, and a failure
changes nothing in the scene (the operator returns CANCELLED, so no undo step is recorded).
"""

from __future__ import annotations

import bpy

from .. import jobs
from ..client import ServerError
from ..preferences import get_preferences
from ..sequencer import StripError
from ..targets import TargetError

USER_ERRORS = (TargetError, StripError, ServerError, ValueError)


def connection_from_preferences(context) -> jobs.Connection:
    prefs = get_preferences(context)
    if prefs is None:
        return jobs.Connection()
    args = ("--max-audio-minutes", str(prefs.max_audio_minutes))
    if prefs.flame_model_path:
        args += ("--flame-model", bpy.path.abspath(prefs.flame_model_path))
    return jobs.Connection(prefs.server_mode, bpy.path.abspath(prefs.python_path) if prefs.python_path else "",
                           prefs.remote_url, prefs.remote_token, args)


def redraw_panels(context) -> None:
    for window in context.window_manager.windows:
        for area in window.screen.areas:
            if area.type in ("VIEW_3D", "SEQUENCE_EDITOR"):
                area.tag_redraw()


class JobOperator:
    """Mixin: subclasses define `create_job(context) -> jobs.Job` and `apply(context, result)`."""

    _timer = None
    _job: jobs.Job | None = None

    @classmethod
    def poll(cls, context):
        job = jobs.active()  # one job at a time: the model process serves one anyway
        return context.scene is not None and (job is None or job.finished)

    def create_job(self, context) -> jobs.Job:
        raise NotImplementedError

    def apply(self, context, result: dict) -> None:
        raise NotImplementedError

    def _start(self, context) -> bool:
        try:
            self._job = jobs.start(self.create_job(context))
        except USER_ERRORS as err:
            self.report({"ERROR"}, str(err))
            return False
        return True

    def invoke(self, context, event):
        if not self._start(context):
            return {"CANCELLED"}
        wm = context.window_manager
        self._timer = wm.event_timer_add(0.1, window=context.window)
        wm.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        if event.type == "ESC" and event.value == "PRESS":
            self._job.cancel()
        if event.type == "TIMER":
            redraw_panels(context)
            context.workspace.status_text_set(f"AVI-Talking: {self._job.stage} ({self._job.progress:.0%}) — Esc to cancel")
            if self._job.finished:
                context.window_manager.event_timer_remove(self._timer)
                context.workspace.status_text_set(None)
                return self._finish(context)
        return {"PASS_THROUGH"}

    def execute(self, context):
        if not self._start(context):
            return {"CANCELLED"}
        jobs.wait(self._job, lambda job: print(f"AVI-Talking: {job.stage} ({job.progress:.0%})", flush=True))
        return self._finish(context)

    def _finish(self, context):
        job = self._job
        if job.state == "cancelled":
            self.report({"WARNING"}, "AVI-Talking: cancelled, nothing was changed")
            return {"CANCELLED"}
        if job.state == "failed":
            self.report({"ERROR"}, job.error)
            return {"CANCELLED"}
        try:
            self.apply(context, job.result)
        except USER_ERRORS as err:
            self.report({"ERROR"}, str(err))
            return {"CANCELLED"}
        return {"FINISHED"}
