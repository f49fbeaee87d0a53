"""Sidebar panels (N panel, tab "AVI-Talking") in the Video Sequencer and the 3D Viewport.

Both draw the same thing, top to bottom in the order of the work: face, dialogue strip, Analyze,
the editable instruction, seed, takes, guidance and model, Generate (with progress and Cancel while it
runs), the kept takes with Use Take, export, server.
"""

from __future__ import annotations

import math

import bpy

from . import jobs, server_process
from .preferences import get_preferences
from .properties import line_for
from .sequencer import StripError, active_sound_clip
from .head_rig import EYE_LOOK_KEYS, face_armature, find_head_rig
from .targets import TargetError, driven_keys, find_target, unmapped_keys


def _draw_head_and_eyes(box, target) -> None:
    """Where the head and eyes will turn, and the head bone picker where the face has an armature."""
    rig = find_head_rig(target.obj)
    box.label(text=rig.head_line, icon="BONE_DATA" if rig.head_bone else "OBJECT_DATA")
    eye_keys = any(channel in target.key_for_channel for channel in EYE_LOOK_KEYS)
    box.label(text=rig.eyes_line(eye_keys), icon="HIDE_OFF" if rig.eye_bones or eye_keys else "ERROR")
    armature = face_armature(target.obj)
    if armature is not None:
        box.prop_search(target.obj, "avi_head_bone", armature.data, "bones", text="Head Bone")
    box.prop(target.obj, "avi_listens")


def _draw_mapping(box, target) -> None:
    """What Generate will key, what it leaves alone, and the face's own mapping table to edit."""
    unmapped = unmapped_keys(target)
    if unmapped:
        shown = ", ".join(unmapped[:5]) + (f", … ({len(unmapped)})" if len(unmapped) > 5 else "")
        box.label(text=f"Not keyed: {shown}", icon="INFO")
    driven = driven_keys(target)
    if driven:
        shown = ", ".join(driven[:4]) + (f", … ({len(driven)})" if len(driven) > 4 else "")
        box.label(text=f"Will not play (driven): {shown}", icon="ERROR")
    if target.kind == "flame":
        return
    _draw_mapping_table(box, target.obj)


def _draw_mapping_table(box, obj) -> None:
    """The face's own mapping table (curve → shape key × weight), and the buttons that make or drop it."""
    table = obj.avi_key_mapping
    for index, row_data in enumerate(table):
        row = box.row(align=True)
        row.prop(row_data, "channel", text="")
        row.prop_search(row_data, "key", obj.data.shape_keys, "key_blocks", text="")
        row.prop(row_data, "weight", text="")
        row.operator("avi_talking.remove_key_mapping_row", text="", icon="X").index = index
    row = box.row(align=True)
    row.operator("avi_talking.fill_key_mapping", text="Edit Mapping" if not len(table) else "Refill from Names")
    if len(table):
        row.operator("avi_talking.add_key_mapping_row", text="", icon="ADD")
        row.operator("avi_talking.clear_key_mapping", text="Use Names")


def _draw_inputs(layout, context, settings) -> None:
    box = layout.box()
    box.prop(settings, "target")
    try:
        target = find_target(settings.target)
        box.label(text=target.label, icon="SHAPEKEY_DATA")
        _draw_head_and_eyes(box, target)
        _draw_mapping(box, target)
    except TargetError as err:
        box.label(text=str(err).split(":")[0], icon="ERROR")
        face = settings.target
        if face is not None and face.type == "MESH" and face.data.shape_keys is not None:
            _draw_mapping_table(box, face)  # names that say nothing: map the keys by hand
    row = box.row(align=True)
    row.operator("avi_talking.add_demo_head", icon="MONKEY")
    row.operator("avi_talking.add_flame_head", icon="USER")
    try:
        clip = active_sound_clip(context.scene)
    except StripError as err:
        box.label(text=str(err), icon="ERROR")
        return
    box.label(text=f"{clip.name}: frames {clip.start_frame:g}–{math.ceil(clip.end_frame) - 1:g}, "
                   f"{clip.audio_start:.2f}–{clip.audio_end:.2f} s of its file", icon="SOUND")
    box.prop(settings, "dialogue")
    box.prop(settings, "language")
    line = line_for(settings, clip.name, create=False)
    row = box.row(align=True)
    if line is not None:
        row.prop(line, "face", text="Line's face")  # empty: the scene's Face above
    row.operator("avi_talking.use_selected_as_line_face", text="" if line is not None else "Use Selected as Line's Face",
                 icon="EYEDROPPER")
    if line is not None:
        box.prop(line, "looks_at")  # empty: the face of the nearest other line in time
    if line is not None and line.dialogue_recognized:
        box.label(text="Heard by speech recognition: correct any word, then run again", icon="INFO")


def _draw_instruction(layout, context, settings) -> None:
    """The active strip's own instruction and segments (another strip's are never shown or used here)."""
    col = layout.column()
    try:
        strip_name = active_sound_clip(context.scene).name
    except StripError:
        return
    line = line_for(settings, strip_name, create=False)
    row = col.row(align=True)
    if line is not None:
        row.prop(line, "instruction_text", text="")
    else:
        row.label(text=f"No instruction for '{strip_name}' yet: Analyze, or write one", icon="TEXT")
    row.operator("avi_talking.edit_instruction", text="", icon="TEXT")
    if line is None:
        return
    if line.instruction_text:
        col.label(text=f"Instruction for '{strip_name}':")
        for text_line in line.instruction_text.as_string().splitlines()[:4]:
            col.label(text=text_line[:80])
    for number, reading in enumerate(line.reading.splitlines()[:6], start=1):  # what the last Generate understood
        unread = "changed nothing" in reading or "nothing in it was understood" in reading
        prefix = f"Segment {number} " if len(line.reading.splitlines()) > 1 else "Last Generate "
        col.label(text=f"{prefix}{reading}"[:120], icon="ERROR" if unread else "INFO")
    if line.segments:
        col.prop(settings, "use_segments")
        if settings.use_segments:
            for segment in line.segments:
                seg_box = col.box()
                times = seg_box.row(align=True)
                times.prop(segment, "start")
                times.prop(segment, "end")
                seg_box.prop(segment, "instruction", text="")


def _draw_job(layout, context, settings) -> None:
    status = context.window_manager.avi_talking_job
    if jobs.running():
        row = layout.row(align=True)
        if hasattr(row, "progress"):  # Blender 4.0+
            row.progress(factor=status.progress, type="BAR", text=status.stage or "working…")
        else:
            row.prop(status, "progress", text=status.stage)
        row.operator("avi_talking.cancel", text="", icon="CANCEL")
    elif settings.last_status:
        failed = status.state == "failed" or " failed: " in settings.last_status
        layout.label(text=settings.last_status[:120], icon="ERROR" if failed else "INFO")


def _draw_sampling(layout, context, settings) -> None:
    row = layout.row()
    row.prop(settings, "seed")
    prefs = get_preferences(context)
    if not settings.seed_is_set and prefs is not None and prefs.default_seed != settings.seed:
        row.label(text=f"default {prefs.default_seed}")
    row = layout.row(align=True)
    row.prop(settings, "samples")
    guidance = row.row(align=True)
    guidance.active = settings.synthesis != "baseline"  # the baseline has no sampling to guide
    guidance.prop(settings, "guidance")
    layout.prop(settings, "head_motion", slider=True)
    row = layout.row(align=True)
    row.prop(settings, "gaze_target")
    if settings.gaze_target == "OBJECT":
        row.prop(settings, "gaze_object", text="")
    layout.prop(settings, "synthesis")


def _draw_takes(layout, settings) -> None:
    if not settings.takes:
        return
    box = layout.box()
    box.label(text="Takes", icon="DUPLICATE")
    for index, take in enumerate(settings.takes):
        row = box.row(align=True)
        # Take 1 is the instruction's typical style; later takes are the seed's readings of it.
        kind = "typical" if take.number == 1 else f"seed {take.seed}"
        row.label(text=f"{take.strip}: take {take.number}, {kind}",
                  icon="CHECKMARK" if take.in_use else "BLANK1")
        row.operator("avi_talking.use_take").index = index


def _draw_server(layout, context) -> None:
    box = layout.box()
    prefs = get_preferences(context)
    if prefs is not None and prefs.server_mode == "REMOTE":
        box.label(text=f"Server: {prefs.remote_url}", icon="URL")
        return
    local = server_process.current()
    state = "not running" if local is None else ("running" if local.ready.is_set() else "starting…")
    row = box.row(align=True)
    row.label(text=f"Server: {state}", icon="LINKED" if state == "running" else "UNLINKED")
    row.operator("avi_talking.start_server", text="", icon="PLAY")
    row.operator("avi_talking.stop_server", text="", icon="PAUSE")


def draw_avi_talking(layout, context) -> None:
    settings = context.scene.avi_talking
    _draw_inputs(layout, context, settings)
    layout.operator("avi_talking.analyze", icon="VIEWZOOM")
    _draw_instruction(layout, context, settings)
    _draw_sampling(layout, context, settings)
    row = layout.row(align=True)
    row.prop(settings, "use_layers")
    row.prop(settings, "key_density", text="")
    layout.prop(settings, "push_down_hand_keys")
    row = layout.row(align=True)
    row.operator("avi_talking.generate", icon="SHAPEKEY_DATA")
    if settings.use_layers:
        row = layout.row(align=True)
        row.operator("avi_talking.generate", text="Expression Only").expression_only = True
        row.operator("avi_talking.generate", text="Head & Eyes Only").head_and_eyes_only = True
    row = layout.row(align=True)
    row.operator("avi_talking.generate_all", text="Generate All", icon="SEQ_STRIP_DUPLICATE")
    row.operator("avi_talking.generate_all", text="Selected").selected_only = True
    _draw_job(layout, context, settings)
    _draw_takes(layout, settings)
    row = layout.row(align=True)
    row.operator("avi_talking.export_animation", text="Export glTF").format = "GLB"
    row.operator("avi_talking.export_animation", text="Export FBX").format = "FBX"
    row = layout.row(align=True)
    row.operator("avi_talking.export_live_link", text="Live Link CSV", icon="EXPORT")
    row.operator("avi_talking.import_live_link", text="Import CSV", icon="IMPORT")
    _draw_server(layout, context)


class _SidebarPanel:
    bl_label = "AVI-Talking"
    bl_region_type = "UI"
    bl_category = "AVI-Talking"

    def draw(self, context):
        draw_avi_talking(self.layout, context)


class AVI_TALKING_PT_sequencer(_SidebarPanel, bpy.types.Panel):
    bl_space_type = "SEQUENCE_EDITOR"


class AVI_TALKING_PT_view3d(_SidebarPanel, bpy.types.Panel):
    bl_space_type = "VIEW_3D"


classes = (AVI_TALKING_PT_sequencer, AVI_TALKING_PT_view3d)
