"""Analyze: speech → editable visual instruction (whole clip and per segment); open it for editing."""

from __future__ import annotations

import bpy

from .. import jobs
from ..line_identity import sync_lines
from ..properties import dialogue_for, keep_recognized_dialogue, line_for
from ..sequencer import StripError, active_sound_clip
from .job_operator import JobOperator, connection_from_preferences

INSTRUCTION_TEXT_NAME = "AVI instruction"


def instruction_text_for(strip_name: str):
    """A Text datablock of the strip's own, named after it."""
    name = f"{INSTRUCTION_TEXT_NAME} {strip_name}"
    return bpy.data.texts.get(name) or bpy.data.texts.new(name)


def instruct_job(context) -> jobs.Job:
    """Gather everything on the main thread; the worker only talks to the server."""
    settings = context.scene.avi_talking
    sync_lines(context.scene)  # a renamed or copied strip's line, an older file's dialogue: tied up first
    clip = active_sound_clip(context.scene)
    dialogue, language = dialogue_for(settings, clip.name), settings.language
    return jobs.Job("analyze", lambda client: client.submit_instruct(clip.path, dialogue, clip.request_span,
                                                                     language),
                    lambda context, result: write_instruction(context.scene, result, clip.name),
                    connection_from_preferences(context))


def write_instruction(scene, result: dict, strip_name: str) -> str:
    """The instruction into the strip's Text ("AVI instruction <strip>"), the segments into its line's list."""
    line = line_for(scene.avi_talking, strip_name)
    text = line.instruction_text or instruction_text_for(strip_name)
    text.clear()
    text.write(result["instruction"])
    line.instruction_text = text
    line.segments.clear()
    for segment in result["segments"]:
        item = line.segments.add()
        item.start, item.end, item.instruction = segment["start"], segment["end"], segment["instruction"]
    line.analyzed = True
    return f"instruction for '{strip_name}' written ({len(result['segments'])} segments)" \
        + keep_recognized_dialogue(line, result)


class AVI_TALKING_OT_analyze(JobOperator, bpy.types.Operator):
    """Listen to the active sound strip and write a visual instruction you can edit"""

    bl_idname = "avi_talking.analyze"
    bl_label = "Analyze"
    bl_options = {"REGISTER", "UNDO"}

    make_job = staticmethod(instruct_job)


class AVI_TALKING_OT_edit_instruction(bpy.types.Operator):
    """Open the whole-clip instruction in a Text Editor window"""

    bl_idname = "avi_talking.edit_instruction"
    bl_label = "Edit Instruction"

    @classmethod
    def poll(cls, context):
        return context.area is not None  # a new window copies the area it is called from (none headless)

    def execute(self, context):
        try:
            line = line_for(context.scene.avi_talking, active_sound_clip(context.scene).name)
        except StripError as err:
            self.report({"ERROR"}, str(err))
            return {"CANCELLED"}
        if line.instruction_text is None:
            line.instruction_text = instruction_text_for(line.strip)
        windows = set(context.window_manager.windows)
        bpy.ops.wm.window_new()
        new = [w for w in context.window_manager.windows if w not in windows]
        if not new:
            self.report({"ERROR"}, "could not open a window for the Text Editor")
            return {"CANCELLED"}
        area = new[0].screen.areas[0]
        area.type = "TEXT_EDITOR"
        area.spaces.active.text = line.instruction_text
        return {"FINISHED"}
