"""The face's own mapping table: fill it from the key names (then edit it), or clear it."""

from __future__ import annotations

import bpy
from bpy.props import IntProperty

from ..formats import ARKIT_NAMES
from ..rig_names import arkit_channel

ARKIT_ORDER = {name: i for i, name in enumerate(ARKIT_NAMES)}


class AVI_TALKING_OT_fill_key_mapping(bpy.types.Operator):
    """Write what the face's key names map to into its own table (curve, shape key, weight) to edit;
    a rig with only a few ARKit-named keys starts from those"""

    bl_idname = "avi_talking.fill_key_mapping"
    bl_label = "Fill Mapping from Names"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        obj = context.scene.avi_talking.target
        if obj is None or obj.type != "MESH" or obj.data.shape_keys is None:
            self.report({"ERROR"}, "choose a face mesh with shape keys first")
            return {"CANCELLED"}
        found = [(arkit_channel(k.name), k.name) for k in list(obj.data.shape_keys.key_blocks)[1:]]
        rows = sorted(((c, k) for c, k in found if c), key=lambda row: ARKIT_ORDER[row[0]])
        obj.avi_key_mapping.clear()
        for channel, key in rows:
            row = obj.avi_key_mapping.add()
            row.channel, row.key, row.weight = channel, key, 1.0
        if not rows:  # nothing to start from: one empty row for the animator to fill in
            obj.avi_key_mapping.add().weight = 1.0
        self.report({"INFO"}, f"AVI-Talking: {len(obj.avi_key_mapping)} rows in the mapping table of '{obj.name}'")
        return {"FINISHED"}


class AVI_TALKING_OT_add_key_mapping_row(bpy.types.Operator):
    """Add a row to the face's mapping table"""

    bl_idname = "avi_talking.add_key_mapping_row"
    bl_label = "Add Row"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        obj = context.scene.avi_talking.target
        if obj is None:
            return {"CANCELLED"}
        obj.avi_key_mapping.add().weight = 1.0
        return {"FINISHED"}


class AVI_TALKING_OT_remove_key_mapping_row(bpy.types.Operator):
    """Remove this row from the face's mapping table"""

    bl_idname = "avi_talking.remove_key_mapping_row"
    bl_label = "Remove Row"
    bl_options = {"REGISTER", "UNDO"}

    index: IntProperty(min=0, options={"SKIP_SAVE"})

    def execute(self, context):
        obj = context.scene.avi_talking.target
        if obj is None or self.index >= len(obj.avi_key_mapping):
            return {"CANCELLED"}
        obj.avi_key_mapping.remove(self.index)
        return {"FINISHED"}


class AVI_TALKING_OT_clear_key_mapping(bpy.types.Operator):
    """Remove the face's mapping table: its key names decide again"""

    bl_idname = "avi_talking.clear_key_mapping"
    bl_label = "Clear Mapping"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        obj = context.scene.avi_talking.target
        if obj is not None:
            obj.avi_key_mapping.clear()
        return {"FINISHED"}
