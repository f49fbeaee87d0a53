"""Generate All / Generate Selected: every sound strip of the sequencer, in order, each on its line's
face, in one job (one progress bar, one Cancel, one undo step) with a report of each line's outcome."""

from __future__ import annotations

import bpy
from bpy.props import BoolProperty

from .. import jobs
from ..properties import face_for
from ..sequencer import StripError, sound_clip, sound_strips
from ..targets import TargetError
from .generate import layers_to_write, line_request
from .job_operator import JobOperator, connection_from_preferences


def batch_job(context, *, selected_only: bool) -> jobs.BatchJob:
    scene = context.scene
    strips = sound_strips(scene, selected_only=selected_only)
    if not strips:
        raise StripError("select one or more sound strips in the Video Sequencer" if selected_only
                         else "add the dialogue as sound strips in the Video Sequencer first")
    requests, refused = [], []
    for strip in strips:  # each line is checked now: a refused one is reported, the others still run
        try:
            face = face_for(scene.avi_talking, strip.name)
            if face is None:
                raise TargetError("no face: set the line's Face or the scene's Face")
            requests.append(line_request(context, sound_clip(scene, strip), face,
                                         layers=layers_to_write(scene.avi_talking)))
        except (TargetError, StripError, ValueError) as err:
            refused.append(jobs.LineOutcome(strip.name, "refused", str(err)))
    if not requests:
        raise TargetError("no line can be generated: " + "; ".join(f"{o.line}: {o.message}" for o in refused))
    return jobs.BatchJob("generate all", requests, refused, connection_from_preferences(context),
                         order=[strip.name for strip in strips])


class AVI_TALKING_OT_generate_all(JobOperator, bpy.types.Operator):
    """Animate every sound strip (or the selected ones) in order, each on its line's face: one undo step, a report per line"""

    bl_idname = "avi_talking.generate_all"
    bl_label = "Generate All"
    bl_options = {"REGISTER", "UNDO"}

    selected_only: BoolProperty(name="Selected Only", default=False, options={"SKIP_SAVE"},
                                description="Only the sound strips selected in the Video Sequencer")

    def make_job(self, context):
        return batch_job(context, selected_only=self.selected_only)

    def _report(self, job):
        if job.state != "succeeded":
            return super()._report(job)
        head, *lines = job.message.split("\n")
        for line in lines:
            self.report({"INFO"} if ": keyed" in line else {"WARNING"}, f"AVI-Talking: {line}")
        keyed_any = any(outcome.state == "keyed" for outcome in job.outcomes)
        self.report({"INFO"} if keyed_any else {"ERROR"}, f"AVI-Talking: {head}")
        # Nothing keyed is nothing changed: no undo step for it.
        return {"FINISHED"} if keyed_any else {"CANCELLED"}
