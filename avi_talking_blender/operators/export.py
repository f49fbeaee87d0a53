"""Bake and export the animated face: glTF binary (morph-target weights) or FBX (shape-key animation).

Only the generated frames are exported, whatever the scene's range. glTF time 0 is the first
generated frame (where the strip's sound starts playing); FBX keeps the scene's frame times, so an
importer places the keys on the frames they had in Blender.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import bpy
from bpy.props import EnumProperty, StringProperty

from ..export_bake import baked_modifiers, face_for_export
from ..glb_weights import add_weights_animation, correct_exporter_times
from ..head_rig import find_head_rig
from ..nla_layers import generated_frame_range
from ..targets import TargetError, find_target


class AVI_TALKING_OT_export_animation(bpy.types.Operator):
    """Export the animated face with its shape-key animation"""

    bl_idname = "avi_talking.export_animation"
    bl_label = "Export Animation"
    bl_options = {"REGISTER"}

    filepath: StringProperty(subtype="FILE_PATH")
    format: EnumProperty(items=[("GLB", "glTF binary (.glb)", "Morph-target weights animation"),
                                ("FBX", "FBX (.fbx)", "Shape-key animation")], default="GLB")
    faces: EnumProperty(name="Faces", default="ALL", items=[
        ("ALL", "Every Animated Face", "Every face the scene's lines animate, in one file on one timeline: time 0 "
                                       "where the first line starts, so the characters keep their timing"),
        ("FACE", "The Scene's Face", "Only the scene's Face, time 0 at its own first generated frame")])

    def invoke(self, context, event):
        if not self.filepath:
            stem = bpy.path.display_name_from_filepath(bpy.data.filepath) or "face"
            self.filepath = f"//{stem}.{self.format.lower()}"
        context.window_manager.fileselect_add(self)
        return {"RUNNING_MODAL"}

    def execute(self, context):
        try:
            targets, frames = animated_faces(context.scene) if self.faces == "ALL" else \
                ([animated_face(context.scene, find_target)[0]], animated_face(context.scene, find_target)[1])
        except TargetError as err:
            self.report({"ERROR"}, str(err))
            return {"CANCELLED"}
        path = Path(bpy.path.abspath(self.filepath))
        suffix = ".glb" if self.format == "GLB" else ".fbx"
        path = path.with_suffix(suffix)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            baked = export_faces(context, targets, frames, path, self.format)
        except TargetError as err:
            self.report({"ERROR"}, str(err))
            return {"CANCELLED"}
        if not path.is_file():
            self.report({"ERROR"}, f"export did not write {path}")
            return {"CANCELLED"}
        through = f" (shape keys through the modifiers {', '.join(baked)})" if baked else ""
        names = ", ".join(f"'{t.obj.name}'" for t in targets)
        self.report({"INFO"}, f"AVI-Talking: exported {names}, frames {frames[0]}–{frames[1]} from time 0, to "
                              f"{path}{through}")
        return {"FINISHED"}


def export_face(context, target, frames: tuple[int, int], path: Path, file_format: str,
                deform_each_frame: bool = False) -> list[str]:
    """export_faces for one face."""
    return export_faces(context, [target], frames, path, file_format, deform_each_frame)


def export_faces(context, targets: list, frames: tuple[int, int], path: Path, file_format: str,
                 deform_each_frame: bool = False) -> list[str]:
    """Write the faces (with the armatures of their jaw, head and eye bones) with the animation of `frames`
    to `path` ("GLB" or "FBX"), on one timeline; returns the modifiers baked into the exported shape keys
    (export_bake.py).

    deform_each_frame=True leaves everything to the exporter, as it works by default: it samples the
    weights itself and deforms the mesh at every frame it samples. Slower, the same file (the tests
    compare the two).
    """
    with contextlib.ExitStack() as stack:
        faces = [(stack.enter_context(face_for_export(context, t.obj)), t.jaw_bone) for t in targets]
        _export(context, faces, frames, path, file_format, deform_each_frame)
    return sorted({f"'{t.obj.name}': {m}" if len(targets) > 1 else m for t in targets for m in baked_modifiers(t.obj)})


def _export(context, faces: list, frames: tuple[int, int], path: Path, file_format: str,
            deform_each_frame: bool) -> None:
    """`faces`: (mesh to export, its jaw bone or None)."""
    armatures = {armature for face, jaw_bone in faces
                 for armature in (jaw_bone[0] if jaw_bone else None, find_head_rig(face).armature) if armature}
    objects = [face for face, _ in faces] + sorted(armatures, key=lambda armature: armature.name)
    first, last = frames
    with contextlib.ExitStack() as sampling:
        if not deform_each_frame:
            for face, _ in faces:
                sampling.enter_context(_keys_not_deforming(face.data.shape_keys, file_format))
        _export_objects(context, faces, objects, first, last, path, file_format, deform_each_frame)


def _export_objects(context, faces: list, objects: list, first: int, last: int, path: Path, file_format: str,
                    deform_each_frame: bool) -> None:
    face, jaw_bone = faces[0]
    # Both exporters bake the scene's playback range: it becomes the generated frames for the export
    # (keys outside the scene's range were dropped), and the animator's range comes back after.
    last = max(last, first + 1)
    with _selection(context, objects), _frame_range(context.scene, first, last):
        if file_format == "GLB" and not deform_each_frame and len(faces) == 1 and _only_its_keys_move(face, jaw_bone):
            # The exporter writes the mesh and its targets; the weights are sampled here (glb_weights).
            bpy.ops.export_scene.gltf(filepath=str(path), export_format="GLB", use_selection=True,
                                      export_animations=False, export_morph=True, export_morph_normal=False)
            if add_weights_animation(path, context.scene, face, first, last):
                return
        if file_format == "GLB":
            # The evaluated scene, sampled per frame: the generated layers and the animator's own
            # NLA tracks are in it. Time 0 is the first generated frame, where the strip's sound starts.
            bpy.ops.export_scene.gltf(filepath=str(path), export_format="GLB", use_selection=True,
                                      export_animations=True, export_morph=True, export_morph_normal=False,
                                      export_force_sampling=True, export_animation_mode="SCENE",
                                      export_frame_range=True, export_anim_slide_to_zero=True)
            if not deform_each_frame:  # the reference export stays the exporter's own file
                correct_exporter_times(path, context.scene, first, last)
        else:
            bpy.ops.export_scene.fbx(filepath=str(path), use_selection=True, object_types={"MESH", "ARMATURE"},
                                     bake_anim=True, bake_anim_use_all_actions=False,
                                     bake_anim_use_nla_strips=False, add_leaf_bones=False)


def _only_its_keys_move(face, jaw_bone) -> bool:
    """True when the face's shape keys are all its animation: no jaw, head or eye bones, and neither the
    face nor an object it hangs from is animated (the exporter would sample their transforms)."""
    if jaw_bone:
        return False
    moving = [find_head_rig(face).armature]
    obj = face
    while obj is not None:
        moving.append(obj)
        obj = obj.parent
    return not any(_animated(obj) for obj in moving if obj is not None)


def _animated(obj) -> bool:
    data = obj.animation_data
    return data is not None and bool(data.action or len(data.nla_tracks) or len(data.drivers))


def animated_faces(scene) -> tuple[list, tuple[int, int]]:
    """(every face the scene's lines animate, with generated animation, as targets; the first and last
    generated frame over all of them); TargetError where none has any."""
    settings = scene.avi_talking
    candidates = [line.face for line in settings.lines if line.face is not None] + [settings.target]
    targets, spans = [], []
    for obj in dict.fromkeys(c for c in candidates if c is not None):
        try:
            target = find_target(obj)
        except TargetError:
            continue
        span = generated_frame_range(target.obj.data.shape_keys)
        if span is not None:
            targets.append(target)
            spans.append(span)
    if not targets:
        return [animated_face(scene)[0]], animated_face(scene)[1]  # raises, saying what to do
    return targets, (min(a for a, _ in spans), max(b for _, b in spans))


def animated_face(scene, find=find_target):
    """(the scene's Face as a target, first and last generated frame); TargetError without animation."""
    target = find(scene.avi_talking.target)
    frames = generated_frame_range(target.obj.data.shape_keys)
    if frames is None:
        raise TargetError(f"'{target.obj.name}' has no shape-key animation: run Generate first")
    return target, frames


class _frame_range:
    """Set the scene's playback range for the exporter, then give the animator theirs back."""

    def __init__(self, scene, first: int, last: int):
        self.scene, self.range = scene, (first, last)

    def __enter__(self):
        self.previous = (self.scene.frame_start, self.scene.frame_end)
        self.scene.frame_start, self.scene.frame_end = self.range  # start first: the range may move either way
        self.scene.frame_start = self.range[0]

    def __exit__(self, *exc):
        self.scene.frame_start, self.scene.frame_end = self.previous
        self.scene.frame_start = self.previous[0]
        return False


class _keys_not_deforming:
    """Let the exporter sample the key values per frame without deforming the mesh each frame.

    Both exporters bake by setting every frame and reading each key block's value; the mesh deformed
    at each frame change is thrown away (geometry and targets come from the key blocks' points).
    Deforming a dense head with 52 keys was two thirds of an export. The key values stay animated
    either way: glTF skips muted keys, so for it the keys turn absolute (the mesh then follows the
    unanimated evaluation time); FBX skips absolute keys, so for it they are muted.
    """

    def __init__(self, shape_keys, file_format: str):
        self.shape_keys, self.file_format = shape_keys, file_format

    def __enter__(self):
        self.relative = self.shape_keys.use_relative
        self.muted = [block.mute for block in self.shape_keys.key_blocks]
        if self.file_format == "GLB":
            self.shape_keys.use_relative = False
        else:
            for block in self.shape_keys.key_blocks:
                block.mute = True

    def __exit__(self, *exc):
        self.shape_keys.use_relative = self.relative
        for block, muted in zip(self.shape_keys.key_blocks, self.muted):
            block.mute = muted
        return False


class _selection:
    """Select exactly `objects` for the exporter, then give the user their selection back."""

    def __init__(self, context, objects):
        self.context, self.objects = context, objects

    def __enter__(self):
        layer = self.context.view_layer
        self.previous = [o for o in layer.objects if o.select_get()]
        self.previous_active = layer.objects.active
        for obj in self.previous:
            obj.select_set(False)
        for obj in self.objects:
            obj.select_set(True)
        layer.objects.active = self.objects[0]

    def __exit__(self, *exc):
        layer = self.context.view_layer
        for obj in layer.objects:
            obj.select_set(obj in self.previous)
        layer.objects.active = self.previous_active
        return False
