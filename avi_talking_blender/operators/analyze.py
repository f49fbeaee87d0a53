"""Analyze: speech → editable visual instruction (whole clip and per segment); open it for editing."""

from __future__ import annotations

import bpy

from .. import jobs
from ..properties import keep_recognized_dialogue
from ..sequencer import active_sound_clip
from .job_operator import JobOperator, connection_from_preferences

INSTRUCTION_TEXT_NAME = "AVI instruction"


def instruct_job(context) -> jobs.Job:
    """Gather everything on the main thread; the worker only talks to the server."""
    settings = context.scene.avi_talking
    clip = active_sound_clip(context.scene)
    dialogue = settings.dialogue.strip() or None
    return jobs.Job("analyze", lambda client: client.submit_instruct(clip.path, dialogue),
                    lambda context, result: write_instruction(context.scene, result, clip.name),
                    connection_from_preferences(context))


def write_instruction(scene, result: dict, strip_name: str) -> str:
    """The instruction into the Text "AVI instruction", the segments into the scene's editable list."""
    settings = scene.avi_talking
    text = settings.instruction_text or bpy.data.texts.get(INSTRUCTION_TEXT_NAME) \
        or bpy.data.texts.new(INSTRUCTION_TEXT_NAME)
    text.clear()
    text.write(result["instruction"])
    settings.instruction_text = text
    settings.segments.clear()
    for segment in result["segments"]:
        item = settings.segments.add()
        item.start, item.end, item.instruction = segment["start"], segment["end"], segment["instruction"]
    settings.analyzed_strip = strip_name
    return f"instruction for '{strip_name}' written ({len(result['segments'])} segments)" \
        + keep_recognized_dialogue(settings, result)


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
        settings = context.scene.avi_talking
        if settings.instruction_text is None:
            settings.instruction_text = bpy.data.texts.get(INSTRUCTION_TEXT_NAME) \
                or bpy.data.texts.new(INSTRUCTION_TEXT_NAME)
        windows = set(context.window_manager.windows)
        bpy.ops.wm.window_new()
        new = [w for w in context.window_manager.windows if w not in windows]
        if not new:
            self.report({"ERROR"}, "could not open a window for the Text Editor")
            return {"CANCELLED"}
        area = new[0].screen.areas[0]
        area.type = "TEXT_EDITOR"
        area.spaces.active.text = settings.instruction_text
        return {"FINISHED"}
