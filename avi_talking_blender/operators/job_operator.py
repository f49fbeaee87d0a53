"""Shared behaviour of operators that wait on the model process without freezing Blender.

From the UI (`invoke`) they run modally: a window timer calls `jobs.apply_finished_job`, panels
show progress, Esc or the Cancel button stops the server job. From scripts and background mode
(`execute`, where no timer fires) they wait in place, printing progress, then call the same
function. A failure changes nothing in the scene: the operator returns CANCELLED, so no undo step
is recorded either; success is one undo step (`bl_options` has UNDO).
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
    args += ("--agent", prefs.agent)  # always named: the process's own default may differ
    if prefs.agent == "endpoint":
        args += ("--agent-url", prefs.agent_url, "--agent-model", prefs.agent_model)
    elif prefs.agent == "learned":
        if prefs.agent_weights_path:
            args += ("--agent-weights", bpy.path.abspath(prefs.agent_weights_path))
        if prefs.agent_lm_path:
            args += ("--lm", bpy.path.abspath(prefs.agent_lm_path))
    return jobs.Connection(prefs.server_mode, bpy.path.abspath(prefs.python_path) if prefs.python_path else "",
                           prefs.remote_url, prefs.remote_token, args)


def redraw_panels(context) -> None:
    for window in context.window_manager.windows:
        for area in window.screen.areas:
            if area.type in ("VIEW_3D", "SEQUENCE_EDITOR"):
                area.tag_redraw()


class JobOperator:
    """Mixin: subclasses set `make_job`, a function `(context) -> jobs.Job` (or a method `(self, context)`)."""

    make_job = None
    _timer = None
    _job: jobs.Job | None = None

    @classmethod
    def poll(cls, context):
        return context.scene is not None and not jobs.running()  # the model process serves one job at a time

    def _start(self, context) -> bool:
        try:
            self._job = jobs.start(self.make_job(context))
        except USER_ERRORS as err:
            self.report({"ERROR"}, str(err))
            # The panel's "Last result" says so too: a stale success there would read as this run's.
            context.scene.avi_talking.last_status = f"{self.bl_label} refused: {err}"
            return False
        jobs.sync_status(context)
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
            self._job.cancel()  # the server drops the job; the timer below sees it end
            return {"RUNNING_MODAL"}
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        done = jobs.apply_finished_job(context)
        redraw_panels(context)
        if done is None:
            context.workspace.status_text_set(
                f"AVI-Talking: {self._job.stage} ({self._job.progress:.0%}) — Esc to cancel")
            return {"PASS_THROUGH"}
        context.window_manager.event_timer_remove(self._timer)
        context.workspace.status_text_set(None)
        return self._report(done)

    def execute(self, context):
        if not self._start(context):
            return {"CANCELLED"}
        jobs.wait(self._job, lambda job: print(f"AVI-Talking: {job.stage} ({job.progress:.0%})", flush=True))
        return self._report(jobs.apply_finished_job(context))

    def _report(self, job: jobs.Job):
        if job.state == "cancelled":
            self.report({"WARNING"}, "AVI-Talking: cancelled, nothing was changed")
            return {"CANCELLED"}
        if job.state == "failed":
            self.report({"ERROR"}, job.error)
            return {"CANCELLED"}
        # Done, but part of it will not play (driven keys) or was not understood: a warning, not a plain success.
        warned = any(words in job.message for words in ("WILL NOT PLAY", "changed nothing", "nothing in it was understood"))
        self.report({"WARNING"} if warned else {"INFO"}, f"AVI-Talking: {job.message}")
        return {"FINISHED"}
