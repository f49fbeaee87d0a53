"""Generate All / Generate Selected: every sound strip of the sequencer, in order, each on its line's
face, in one job (one progress bar, one Cancel, one undo step) with a report of each line's outcome."""

from __future__ import annotations

import bpy
from bpy.props import BoolProperty

from .. import jobs
from ..dialogue import Line, ListenerSpec, addressee, gaze_points, quiet_spans, scene_gaze
from ..line_identity import sync_lines
from ..properties import face_for, line_for
from ..sequencer import StripError, silent_reason, sound_clip, sound_strips
from ..targets import TargetError, find_target
from .generate import layers_to_write, line_request
from .job_operator import JobOperator, connection_from_preferences


def batch_job(context, *, selected_only: bool) -> jobs.BatchJob:
    scene = context.scene
    noticed = sync_lines(scene)  # renamed, copied or older-version strips are tied to their lines first
    every = sound_strips(scene, selected_only=selected_only, playing=False)
    strips = [strip for strip in every if not silent_reason(scene, strip)]
    if not every:
        raise StripError("select one or more sound strips in the Video Sequencer" if selected_only
                         else "add the dialogue as sound strips in the Video Sequencer first")
    # Strips Blender does not play are not animated, and the report says why (a muted alternate take).
    lines, refused = [], [jobs.LineOutcome(s.name, "skipped", silent_reason(scene, s)) for s in every
                          if s not in strips]
    if not strips:
        raise StripError("none of the sound strips plays: " + "; ".join(o.message for o in refused))
    for strip in strips:  # each line is checked now: a refused one is reported, the others still run
        try:
            face = face_for(scene.avi_talking, strip.name)
            if face is None:
                raise TargetError("no face: set the line's Face or the scene's Face")
            find_target(face)
            clip = sound_clip(scene, strip)
            picked = line_for(scene.avi_talking, strip.name, create=False)
            looks_at = picked.looks_at if picked is not None else None
            lines.append((clip, Line(strip.name, face.name, clip.start_frame, clip.end_frame,
                                     looks_at.name if looks_at is not None else None)))
        except (TargetError, StripError, ValueError) as err:
            refused.append(jobs.LineOutcome(strip.name, "refused", str(err)))
    dialogue = [line for _, line in lines]
    requests = []
    for index, (clip, line) in enumerate(lines):
        try:
            requests.append(line_request(context, clip, bpy.data.objects[line.face],
                                         layers=layers_to_write(scene.avi_talking),
                                         gaze=_gaze_at_addressee(scene, dialogue, index),
                                         listeners=_listeners(scene, dialogue, line),
                                         noticed=noticed if not requests else ()))
        except (TargetError, StripError, ValueError) as err:
            refused.append(jobs.LineOutcome(line.strip, "refused", str(err)))
    if not requests:
        raise TargetError("no line can be generated: " + "; ".join(f"{o.line}: {o.message}" for o in refused))
    return jobs.BatchJob("generate all", requests, refused, connection_from_preferences(context),
                         order=[strip.name for strip in every])


def _gaze_at_addressee(scene, dialogue: list[Line], index: int) -> dict | None:
    """The line's gaze target: the head of the face it talks to, over the line; with no other face, the
    panel's Gaze (the camera, an object, or ahead)."""
    other = addressee(dialogue, index)
    line = dialogue[index]
    if other is None or other not in bpy.data.objects:
        return scene_gaze(scene, bpy.data.objects[line.face], line.start, line.end)
    points = gaze_points(scene, bpy.data.objects[line.face], bpy.data.objects[other], line.start, line.end)
    return {"points": points} if points else None


def _listeners(scene, dialogue: list[Line], line: Line) -> list[ListenerSpec]:
    """Every other line-face that listens: where the speaker's head is, from its own, over the line, and
    where it stops listening to it."""
    speaker = bpy.data.objects[line.face]
    specs = []
    for face in dict.fromkeys(other.face for other in dialogue):
        listener = bpy.data.objects.get(face)
        if face == line.face or listener is None or not listener.avi_listens:
            continue
        specs.append(ListenerSpec(face, gaze_points(scene, listener, speaker, line.start, line.end),
                                  quiet_spans(dialogue, face, line)))
    return specs


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
