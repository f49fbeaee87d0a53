"""The keyframe writer: frames, offsets, frame rates, slots, and the user's previous Action."""

from __future__ import annotations

import pytest

from .helpers import mesh_with_keys, ramp_curves


def write(addon, scene, obj, curves, start):
    return addon("operators.generate").apply_curves(scene, obj, curves, start_frame=start, action_name="AVI_line")


@pytest.mark.parametrize("fps, fps_base", [(25, 1.0), (24, 1.0), (30, 1.001)])
def test_keys_land_on_scene_frames_after_the_strip_start(scene, addon, fps, fps_base):
    scene.render.fps, scene.render.fps_base = fps, fps_base
    rate = fps / fps_base
    obj = mesh_with_keys("Face", ["jawOpen", "mouthClose", "eyeBlinkLeft", "browInnerUp", "mouthSmileLeft",
                                  "mouthSmileRight", "cheekPuff", "tongueOut"])
    curves = ramp_curves(40, fps=rate)
    action = write(addon, scene, obj, curves, start=101)[0]
    key = obj.data.shape_keys
    assert key.animation_data.action == action and action.name.startswith("AVI_line")
    scene.frame_set(101)
    assert key.key_blocks["jawOpen"].value == pytest.approx(0.0, abs=1e-6)
    scene.frame_set(101 + 20)
    assert key.key_blocks["jawOpen"].value == pytest.approx(20 / 39, abs=1e-4)
    scene.frame_set(140)
    assert key.key_blocks["jawOpen"].value == pytest.approx(1.0, abs=1e-4)
    assert scene.frame_end >= 140


def test_curves_at_another_rate_are_spaced_by_time(scene, addon):
    scene.render.fps = 50
    obj = mesh_with_keys("Face", ["jawOpen", "mouthClose", "eyeBlinkLeft", "browInnerUp", "mouthSmileLeft",
                                  "mouthSmileRight", "cheekPuff", "tongueOut"])
    write(addon, scene, obj, ramp_curves(11, fps=25.0), start=1)
    scene.frame_set(1 + 20)  # 0.4 s at 50 fps = sample 10 at 25 fps
    assert obj.data.shape_keys.key_blocks["jawOpen"].value == pytest.approx(1.0, abs=1e-4)


def test_previous_action_survives_and_keeps_its_keys(scene, addon, blender):
    bpy = blender
    obj = mesh_with_keys("Face", ["jawOpen", "mouthClose", "eyeBlinkLeft", "browInnerUp", "mouthSmileLeft",
                                  "mouthSmileRight", "cheekPuff", "tongueOut"])
    block = obj.data.shape_keys.key_blocks["browInnerUp"]
    block.value = 0.7
    block.keyframe_insert("value", frame=5)
    previous = obj.data.shape_keys.animation_data.action
    write(addon, scene, obj, ramp_curves(10), start=1)
    assert obj.data.shape_keys.animation_data.action != previous
    assert previous.name in bpy.data.actions and previous.use_fake_user
    second = write(addon, scene, obj, ramp_curves(10), start=1)[0]
    assert second.name != "AVI_line" or len([a for a in bpy.data.actions if a.name.startswith("AVI_line")]) == 2
    assert len([a for a in bpy.data.actions if a.name.startswith("AVI_line")]) == 2


def test_flame_rig_gets_signed_expression_and_jaw_bone_keys(scene, addon):
    from .helpers import flame_addon_rig

    obj = flame_addon_rig(scene)
    actions = write(addon, scene, obj, ramp_curves(30), start=10)
    assert len(actions) == 2
    scene.frame_set(39)
    assert obj.data.shape_keys.key_blocks["Exp1"].value == pytest.approx(-2.0, abs=1e-3)  # not clamped at 0
    jaw = obj.parent.pose.bones["jaw"]
    assert jaw.rotation_mode == "XYZ" and jaw.rotation_euler.x == pytest.approx(0.3, abs=1e-4)


def test_the_writer_uses_bulk_keys_with_linear_interpolation(scene, addon):
    obj = mesh_with_keys("Face", ["jawOpen", "mouthClose", "eyeBlinkLeft", "browInnerUp", "mouthSmileLeft",
                                  "mouthSmileRight", "cheekPuff", "tongueOut"])
    action = write(addon, scene, obj, ramp_curves(25), start=1)[0]
    fcurves = action.layers[0].strips[0].channelbags[0].fcurves if hasattr(action, "layers") else action.fcurves
    assert len(fcurves) == 8
    jaw = next(fc for fc in fcurves if "jawOpen" in fc.data_path)
    assert len(jaw.keyframe_points) == 25
    assert {k.interpolation for k in jaw.keyframe_points} == {"LINEAR"}
