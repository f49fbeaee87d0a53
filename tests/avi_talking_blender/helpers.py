"""Scene builders for Blender tests: real meshes, shape keys, armatures and sound strips."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

import bpy
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "model_server" / "retarget"))

from model_server.arkit import ARKIT_NAMES  # noqa: E402
from model_server.curves import build_curves  # noqa: E402


def add_sound_strip(scene, path: Path, frame_start: int, name: str = "line"):
    require_audio()
    editor = scene.sequence_editor or scene.sequence_editor_create()
    strips = editor.strips if hasattr(editor, "strips") else editor.sequences
    strip = strips.new_sound(name=name, filepath=str(path), channel=1, frame_start=frame_start)
    editor.active_strip = strip
    return strip


def require_audio() -> None:
    """Skip, saying why, where this bpy has no Audaspace (Blender 4.2 LTS's wheel): no sound strips there."""
    if not bpy.app.build_options.audaspace:
        pytest.skip(f"bpy {bpy.app.version_string} is built without audio: no sound strips")


def line_of(scene):
    """The active sound strip's line (dialogue, instruction Text, segments), made if it has none yet."""
    strip = scene.sequence_editor.active_strip
    line_id = strip.get("avi_line_id")  # the id the add-on ties a strip to its line with
    for line in scene.avi_talking.lines:
        if (line_id and line.line_id == line_id) or (not line.line_id and line.strip == strip.name):
            return line
    line = scene.avi_talking.lines.add()
    line.strip = strip.name
    return line


NEUTRAL = "A neutral person speaks with relaxed face."


def add_line(scene, path: Path, frame_start: int, *, dialogue: str | None = None, instruction: str = NEUTRAL,
             name: str = "line"):
    """A sound strip made active, with its line's instruction written (no agent needed) and its dialogue."""
    strip = add_sound_strip(scene, path, frame_start=frame_start, name=name)
    text = bpy.data.texts.new(f"instruction {name}")
    text.write(instruction)
    line_of(scene).instruction_text = text
    if dialogue is not None:
        scene.avi_talking.dialogue = dialogue
    return strip


def mesh_with_keys(name: str, key_names: list[str], vertices=None) -> bpy.types.Object:
    vertices = vertices if vertices is not None else [(0, 0, 0), (1, 0, 0), (0, 1, 0)]
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata([tuple(v) for v in vertices], [], [(0, 1, 2)] if len(vertices) == 3 else [])
    obj = bpy.data.objects.new(name, mesh)
    bpy.context.scene.collection.objects.link(obj)
    obj.shape_key_add(name="Basis")
    for key in key_names:
        obj.shape_key_add(name=key)
    return obj


def ramp_curves(frames: int, fps: float = 25.0) -> dict:
    """jawOpen ramps 0 → 1, FLAME Exp1 ramps 0 → -2 (signed), jaw pitch ramps 0 → 0.3."""
    ramp = np.linspace(0, 1, frames)
    arkit = np.zeros((frames, 52))
    arkit[:, ARKIT_NAMES.index("jawOpen")] = ramp
    expression = np.zeros((frames, 50))
    expression[:, 0] = -2 * ramp
    jaw = np.zeros((frames, 3))
    jaw[:, 0] = 0.3 * ramp
    return build_curves(fps=fps, arkit_weights=arkit.tolist(), flame_expression=expression.tolist(),
                        flame_jaw=jaw.tolist(), instruction="A neutral person speaks with relaxed face.",
                        segments=[], transcript="", phones=[], model={"test": "ramp"})


def flame_addon_rig(scene) -> bpy.types.Object:
    """A head laid out like the official FLAME add-on's: FLAME-generic mesh (Exp1..Exp100) under an
    armature with neck/jaw/eye bones. Geometry and basis come from the FLAME-format test fixture."""
    from flame_fixtures import flame_arrays

    data = flame_arrays()
    to_blender = lambda p: np.stack([p[..., 0], -p[..., 2], p[..., 1]], -1)  # noqa: E731
    vertices = to_blender(data["v_template"])
    mesh = bpy.data.meshes.new("FLAME-generic")
    mesh.from_pydata(vertices.tolist(), [], data["f"].tolist())
    obj = bpy.data.objects.new("FLAME-generic", mesh)
    armature = bpy.data.objects.new("FLAME-generic-rig", bpy.data.armatures.new("FLAME-generic-rig"))
    scene.collection.objects.link(armature)
    scene.collection.objects.link(obj)
    bpy.context.view_layer.objects.active = armature
    bpy.ops.object.mode_set(mode="EDIT")
    for bone_name, head in (("root", (0, 0, 0)), ("neck", (0, 0, -0.05)), ("jaw", (0, 0.0, -0.03)),
                            ("left_eye", (0.03, -0.07, 0.03)), ("right_eye", (-0.03, -0.07, 0.03))):
        bone = armature.data.edit_bones.new(bone_name)
        bone.head, bone.tail = head, (head[0], head[1], head[2] + 0.01)
    bpy.ops.object.mode_set(mode="OBJECT")
    obj.parent = armature
    obj.shape_key_add(name="Basis")
    expression = data["shapedirs"][:, :, 300:].transpose(2, 0, 1)
    for k in range(100):
        key = obj.shape_key_add(name=f"Exp{k + 1}")
        key.data.foreach_set("co", (vertices + to_blender(expression[k])).astype(np.float32).ravel())
    return obj


@contextmanager
def preferences_set(prefs, **values):
    """The add-on's preferences set to `values` inside the block, and back to what they were after it."""
    before = {name: getattr(prefs, name) for name in values}
    for name, value in values.items():
        setattr(prefs, name, value)
    try:
        yield prefs
    finally:
        for name, value in before.items():
            setattr(prefs, name, value)


def animator_strip(key, shape_key: str, keys: tuple[tuple[int, float], ...], name: str):
    """The animator's own layer: `keys` ((frame, value), …) keyed by hand on one shape key, then pushed
    down to a strip on a new NLA track starting at the first key's frame."""
    key.animation_data_create()
    for frame, value in keys:
        key.key_blocks[shape_key].value = value
        key.key_blocks[shape_key].keyframe_insert("value", frame=frame)
    hand = key.animation_data.action
    key.animation_data.action = None
    return key.animation_data.nla_tracks.new().strips.new(name, keys[0][0], hand)


def generated_strip(id_data, layer: str = "lips"):
    """The newest NLA strip of the generated `layer` on `id_data` (Layers on), or None."""
    animation = id_data.animation_data
    strips = [s for t in (animation.nla_tracks if animation else ()) if t.name.startswith(f"AVI {layer}")
              for s in t.strips]
    return strips[-1] if strips else None


def generated_action(id_data, layer: str = "lips"):
    """The generated Action on `id_data`: the active one (Layers off), else its `layer` strip's."""
    animation = id_data.animation_data
    if animation is None:
        return None
    if animation.action is not None:
        return animation.action
    strip = generated_strip(id_data, layer)
    return strip.action if strip is not None else None


def generated_fcurves(id_data, layer: str = "lips"):
    """The F-curves of `generated_action` (through the slot it plays on Blender 4.4+)."""
    animation, action = id_data.animation_data, generated_action(id_data, layer)
    if hasattr(action, "layers") and action.layers:
        slot = animation.action_slot if animation.action is not None else generated_strip(id_data, layer).action_slot
        return action.layers[0].strips[0].channelbag(slot).fcurves
    return action.fcurves
