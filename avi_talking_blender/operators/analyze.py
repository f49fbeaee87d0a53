"""Analyze: speech → editable visual instruction (whole clip and per segment)."""

from __future__ import annotations

import bpy

from .. import jobs
from ..sequencer import active_sound_clip
from .job_operator import JobOperator, connection_from_preferences

INSTRUCTION_TEXT_NAME = "AVI instruction"


class AVI_TALKING_OT_analyze(JobOperator, bpy.types.Operator):
    """Listen to the active sound strip and write a visual instruction you can edit"""

    bl_idname = "avi_talking.analyze"
    bl_label = "Analyze"
    bl_options = {"REGISTER", "UNDO"}

    def create_job(self, context) -> jobs.Job:
        settings = context.scene.avi_talking
        clip = active_sound_clip(context.scene)
        self._strip_name = clip.name
        dialogue = settings.dialogue.strip() or None
        return jobs.Job("instruct", lambda client: client.submit_instruct(clip.path, dialogue),
                        connection_from_preferences(context))

    def apply(self, context, result: dict) -> None:
        settings = context.scene.avi_talking
        text = settings.instruction_text or bpy.data.texts.get(INSTRUCTION_TEXT_NAME) \
            or bpy.data.texts.new(INSTRUCTION_TEXT_NAME)
        text.clear()
        text.write(result["instruction"])
        settings.instruction_text = text
        settings.segments.clear()
        for segment in result["segments"]:
            item = settings.segments.add()
            item.start, item.end, item.instruction = segment["start"], segment["end"], segment["instruction"]
        settings.analyzed_strip = self._strip_name
        self.report({"INFO"}, f"AVI-Talking: instruction written ({len(result['segments'])} segments) — "
                              f"heard: \"{result['transcript']}\"")
