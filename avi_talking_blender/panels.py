"""Sidebar panels (N panel, tab "AVI-Talking") in the Video Sequencer and the 3D Viewport."""

from __future__ import annotations

import bpy

from . import jobs, server_process
from .preferences import get_preferences
from .sequencer import StripError, active_sound_clip
from .targets import TargetError, find_target


def draw_avi_talking(layout, context) -> None:
    settings = context.scene.avi_talking
    job = jobs.active()
    running = job is not None and not job.finished

    box = layout.box()
    box.prop(settings, "target")
    try:
        box.label(text=find_target(settings.target).label, icon="SHAPEKEY_DATA")
    except TargetError as err:
        box.label(text=str(err).split(":")[0], icon="ERROR")
    row = box.row(align=True)
    row.operator("avi_talking.add_demo_head", icon="MONKEY")
    row.operator("avi_talking.add_flame_head", icon="USER")
    try:
        clip = active_sound_clip(context.scene)
        box.label(text=f"{clip.name} @ frame {clip.start_frame:g}", icon="SOUND")
    except StripError as err:
        box.label(text=str(err), icon="ERROR")
    box.prop(settings, "dialogue")

    layout.operator("avi_talking.analyze", icon="VIEWZOOM")
    col = layout.column()
    if settings.instruction_text:
        col.label(text="Instruction (edit in the Text Editor):")
        for line in settings.instruction_text.as_string().splitlines()[:4]:
            col.label(text=line[:80])
    if settings.segments:
        col.prop(settings, "use_segments")
        if settings.use_segments:
            for segment in settings.segments:
                seg_box = col.box()
                seg_box.label(text=f"{segment.start:.2f}–{segment.end:.2f} s")
                seg_box.prop(segment, "instruction", text="")
    layout.prop(settings, "seed")
    layout.operator("avi_talking.generate", icon="SHAPEKEY_DATA")

    if running:
        progress = layout.row(align=True)
        if hasattr(progress, "progress"):  # Blender 4.0+
            progress.progress(factor=job.progress, type="BAR", text=job.stage)
        else:
            progress.label(text=f"{job.stage} {job.progress:.0%}")
        progress.operator("avi_talking.cancel", text="", icon="CANCEL")
    elif job is not None and job.state == "failed":
        layout.label(text=job.error[:100], icon="ERROR")

    row = layout.row(align=True)
    row.operator("avi_talking.export_animation", text="Export glTF").format = "GLB"
    row.operator("avi_talking.export_animation", text="Export FBX").format = "FBX"

    server = layout.box()
    prefs = get_preferences(context)
    if prefs is not None and prefs.server_mode == "REMOTE":
        server.label(text=f"Server: {prefs.remote_url}", icon="URL")
    else:
        local = server_process.current()
        state = "not running" if local is None else ("running" if local.url else "starting…")
        row = server.row(align=True)
        row.label(text=f"Server: {state}", icon="LINKED" if local and local.url else "UNLINKED")
        row.operator("avi_talking.start_server", text="", icon="PLAY")
        row.operator("avi_talking.stop_server", text="", icon="PAUSE")


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
