"""The keyframe writer: frames, offsets, frame rates, slots, and the user's previous Action."""

from __future__ import annotations

import pytest

from .helpers import mesh_with_keys, ramp_curves


def write(addon, scene, obj, curves, start):
    return addon("curves_writer").apply_curves(scene, obj, curves, start_frame=start, action_name="AVI_line")


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


ARKIT_EIGHT = ["jawOpen", "mouthClose", "eyeBlinkLeft", "browInnerUp", "mouthSmileLeft", "mouthSmileRight",
               "cheekPuff", "tongueOut"]


def test_curves_at_another_rate_are_resampled_onto_whole_frames(scene, addon):
    scene.render.fps = 50
    obj = mesh_with_keys("Face", ARKIT_EIGHT)
    action = write(addon, scene, obj, ramp_curves(11, fps=25.0), start=1)[0]
    fcurves = action.layers[0].strips[0].channelbags[0].fcurves if hasattr(action, "layers") else action.fcurves
    jaw = next(fc for fc in fcurves if "jawOpen" in fc.data_path)
    assert [k.co.x for k in jaw.keyframe_points] == [float(f) for f in range(1, 22)]  # 0.4 s at 50 fps
    assert jaw.keyframe_points[1].co.y == pytest.approx(0.05, abs=1e-6)  # halfway between samples 0 and 1
    assert scene.frame_end >= 21


def test_resample_linear_keeps_the_ends_and_interpolates(addon):
    resample = addon("keyframes").resample_linear
    assert resample([0.0, 1.0, 0.0], 25.0, 25.0) == [0.0, 1.0, 0.0]
    assert resample([0.0, 1.0, 0.0], 10.0, 20.0) == pytest.approx([0.0, 0.5, 1.0, 0.5, 0.0])
    assert resample([0.0, 2.0, 4.0, 6.0, 8.0], 30.0, 15.0) == pytest.approx([0.0, 4.0, 8.0])
    assert len(resample([0.0] * 250, 25.0, 24.0)) == 240  # 9.96 s at 24 fps: frames 0..239


def test_write_shape_key_action_assigns_the_slot_so_keys_evaluate(scene, addon):
    obj = mesh_with_keys("Face", ["Exp1", "Exp2"])
    action = addon("keyframes").write_shape_key_action(
        obj, {"Exp1": [0.0, -4.0, 3.5], "Exp2": [1.0, 0.0, 0.0]}, start_frame=101, curves_fps=24.0,
        scene_fps=24.0, action_name="AVI_take")
    animation = obj.data.shape_keys.animation_data
    if hasattr(action, "slots"):  # Blender 4.4+
        assert animation.action_slot == action.slots[0] and action.slots[0].target_id_type == "KEY"
    blocks = obj.data.shape_keys.key_blocks
    assert blocks["Exp1"].slider_min <= -4.0 and blocks["Exp1"].slider_max >= 3.5
    scene.frame_set(102)
    assert blocks["Exp1"].value == pytest.approx(-4.0) and blocks["Exp2"].value == pytest.approx(0.0)
    scene.frame_set(103)
    assert blocks["Exp1"].value == pytest.approx(3.5)


def test_a_missing_shape_key_writes_nothing(scene, addon, blender):
    obj = mesh_with_keys("Face", ["Exp1"])
    with pytest.raises(ValueError, match="has no shape key Exp7"):
        addon("keyframes").write_shape_key_action(obj, {"Exp1": [0.0], "Exp7": [1.0]}, start_frame=1,
                                                  curves_fps=25.0, scene_fps=25.0, action_name="AVI_take")
    assert obj.data.shape_keys.animation_data is None and "AVI_take" not in blender.data.actions


def test_one_generation_is_one_undo_step(scene, addon, blender):
    """Blender records an undo step when an operator with UNDO in bl_options finishes from the UI.

    In background mode the undo system starts disabled and bpy.ops calls record no steps by
    themselves (ed.undo's poll fails until ed.undo_push has been called), so this test records the
    step around the writer the way the window manager does around Generate, and steps back once.
    """
    bpy = blender
    for name in ("AVI_TALKING_OT_generate", "AVI_TALKING_OT_analyze"):
        assert "UNDO" in getattr(bpy.types, name).bl_options
    obj = mesh_with_keys("Face", ARKIT_EIGHT)
    block = obj.data.shape_keys.key_blocks["browInnerUp"]
    block.keyframe_insert("value", frame=5)
    previous = obj.data.shape_keys.animation_data.action.name
    bpy.ops.ed.undo_push(message="before Generate")
    write(addon, scene, obj, ramp_curves(30), start=1)
    bpy.ops.ed.undo_push(message="Generate")
    assert bpy.ops.ed.undo() == {"FINISHED"}
    obj = bpy.data.objects["Face"]  # undo rebuilt the data: old references are stale
    assert obj.data.shape_keys.animation_data.action.name == previous
    assert not bpy.data.actions[previous].use_fake_user
    assert not [a for a in bpy.data.actions if a.name.startswith("AVI_line")]
    assert bpy.ops.ed.redo() == {"FINISHED"}
    assert bpy.data.objects["Face"].data.shape_keys.animation_data.action.name.startswith("AVI_line")
