"""Add a face to animate: the bundled demo head, or a FLAME head built from the user's FLAME file."""

from __future__ import annotations

import base64
from array import array
from pathlib import Path

import bpy

from ..client import ServerError, ServerUnavailable
from ..preferences import get_preferences
from ..server_process import ServerStartError, package_root
from ..targets import FLAME_JAW_KEY
from .job_operator import connection_from_preferences

DEMO_HEAD_OBJECT = "AVI_DemoHead"


def demo_head_path() -> Path:
    return package_root() / "assets" / "demo_head.glb"


class AVI_TALKING_OT_add_demo_head(bpy.types.Operator):
    """Add the bundled demo head (52 ARKit shape keys) and make it the face to animate"""

    bl_idname = "avi_talking.add_demo_head"
    bl_label = "Add Demo Head"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        path = demo_head_path()
        if not path.is_file():
            self.report({"ERROR"}, f"demo head missing from the extension: {path}")
            return {"CANCELLED"}
        before = set(bpy.data.objects)
        bpy.ops.import_scene.gltf(filepath=str(path))  # morph targets come in as named shape keys
        added = [o for o in bpy.data.objects if o not in before and o.type == "MESH"]
        if not added:
            self.report({"ERROR"}, f"the demo head could not be imported from {path}")
            return {"CANCELLED"}
        obj = added[0]
        context.view_layer.objects.active = obj
        context.scene.avi_talking.target = obj
        return {"FINISHED"}


def _floats(text: str) -> array:
    values = array("f")
    values.frombytes(base64.b64decode(text))
    return values


class AVI_TALKING_OT_add_flame_head(bpy.types.Operator):
    """Build a FLAME head (template, Exp1–Exp50 and jaw keys) from the FLAME model in the preferences"""

    bl_idname = "avi_talking.add_flame_head"
    bl_label = "Add FLAME Head"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        prefs = get_preferences(context)
        if prefs is None or not prefs.flame_model_path:
            self.report({"ERROR"}, "set your FLAME model file in the AVI-Talking preferences first")
            return {"CANCELLED"}
        try:
            head = connection_from_preferences(context).client().flame_head(bpy.path.abspath(prefs.flame_model_path))
        except (ServerError, ServerUnavailable, ServerStartError) as err:
            self.report({"ERROR"}, str(err))
            return {"CANCELLED"}
        obj = build_flame_object(head)
        context.collection.objects.link(obj)
        context.view_layer.objects.active = obj
        context.scene.avi_talking.target = obj
        return {"FINISHED"}


def build_flame_object(head: dict) -> bpy.types.Object:
    count = head["num_vertices"]
    flame = _floats(head["vertices_b64"])
    # FLAME is y-up, face towards +z; Blender is z-up, face towards -y.
    vertices = [(flame[3 * i], -flame[3 * i + 2], flame[3 * i + 1]) for i in range(count)]
    faces_raw = array("i")
    faces_raw.frombytes(base64.b64decode(head["faces_b64"]))
    faces = [tuple(faces_raw[3 * i:3 * i + 3]) for i in range(head["num_faces"])]
    mesh = bpy.data.meshes.new("FLAME-head")
    mesh.from_pydata(vertices, [], faces)
    obj = bpy.data.objects.new("FLAME-head", mesh)
    obj.shape_key_add(name="Basis", from_mix=False)
    basis = [c for v in vertices for c in v]

    def add_key(name: str, offsets: array, start: int) -> None:
        key = obj.shape_key_add(name=name, from_mix=False)
        co = list(basis)
        for i in range(count):
            dx, dy, dz = offsets[start + 3 * i: start + 3 * i + 3]
            co[3 * i] += dx
            co[3 * i + 1] -= dz
            co[3 * i + 2] += dy
        key.data.foreach_set("co", co)
        key.slider_min, key.slider_max = -10.0, 10.0

    expression = _floats(head["expression_basis_b64"])
    for k in range(head["num_expressions"]):
        add_key(f"Exp{k + 1}", expression, 3 * count * k)
    if head.get("jaw_open_b64"):
        add_key(FLAME_JAW_KEY, _floats(head["jaw_open_b64"]), 0)
    return obj
