"""The animator's own keys in the active Action never hide the generated layers in silence: Generate refuses
and names them, or (Push Down Hand Keys) moves them to a track below the layers, which add to them."""

from __future__ import annotations

import math

import pytest

from .helpers import add_line
from .test_head_rig import FRAMES, PITCH, apply, facing, head_curves, rigged_face
from .test_scene_batch import demo_head, shape_values


def test_hand_keyed_shape_keys_are_named_or_pushed_down_below_the_layers(scene, blender, front_center_wav):
    head = demo_head(blender, "Face")
    add_line(scene, front_center_wav, frame_start=1, dialogue="front center")
    jaw = head.data.shape_keys.key_blocks["jawOpen"]
    jaw.value = 0.10
    jaw.keyframe_insert("value", frame=1)  # I over the jawOpen slider: the active Action, Replace
    hand = head.data.shape_keys.animation_data.action

    with pytest.raises(RuntimeError, match=r"jawOpen \(Action '" + hand.name):
        blender.ops.avi_talking.generate()
    assert not len(head.data.shape_keys.animation_data.nla_tracks)  # refused before anything was written

    scene.avi_talking.push_down_hand_keys = True
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    animation = head.data.shape_keys.animation_data
    assert animation.action is None
    names = [t.name for t in animation.nla_tracks]
    assert names.index(f"{hand.name} (hand keys)") < names.index("AVI lips")  # below the layers
    assert "moved to the NLA track" in scene.avi_talking.last_status
    played = shape_values(scene, head, range(1, 37), ["jawOpen"])[:, 0]
    assert played.min() >= 0.10 - 1e-4  # the animator's 0.10 …
    assert played.max() > 0.4  # … and the generated lips on top of it


def test_a_hand_keyed_head_bone_is_refused_then_pushed_down_under_the_nods(scene, blender, addon):
    from mathutils import Quaternion

    armature, face = rigged_face(blender, "head", True)
    apply(addon, scene, face, head_curves(yaw=0.0))  # generated once: the AVI head track is the bottom one
    bone = armature.pose.bones["head"]
    local = bone.bone.matrix_local.to_3x3()
    bone.rotation_quaternion = (local.transposed() @ Quaternion((0, 0, 1), 0.3).to_matrix() @ local).to_quaternion()
    bone.keyframe_insert("rotation_quaternion", frame=1)  # the animator turns the head with I
    with pytest.raises(ValueError, match="head"):
        apply(addon, scene, face, head_curves(yaw=0.0))
    scene.avi_talking.push_down_hand_keys = True
    apply(addon, scene, face, head_curves(yaw=0.0))
    tracks = [t.name for t in armature.animation_data.nla_tracks]
    assert tracks[0].endswith("(hand keys)") and "AVI head" in tracks
    scene.frame_set(FRAMES)
    front = facing(armature, "head")
    assert math.asin(-front[2]) == pytest.approx(PITCH, abs=0.01)  # the generated nod
    assert abs(math.atan2(front[0], -front[1])) == pytest.approx(0.3, abs=0.02)  # and the animator's turn


def test_driven_shape_keys_are_named_in_the_panel_line_and_the_report(scene, blender, addon, front_center_wav):
    head = demo_head(blender, "Face")
    add_line(scene, front_center_wav, frame_start=1, dialogue="front center")
    for name in ("jawOpen", "mouthSmileLeft"):  # a rig that drives them (from a bone, a slider …)
        driver = head.data.shape_keys.key_blocks[name].driver_add("value").driver
        driver.expression = "0.0"
    target = addon("targets").find_target(head)
    assert addon("targets").driven_keys(target) == ["jawOpen", "mouthSmileLeft"]
    from .test_panels import CheckingLayout

    drawn: list = []
    addon("panels").draw_avi_talking(CheckingLayout(blender, drawn), blender.context)
    assert ("label", "Will not play (driven): jawOpen, mouthSmileLeft") in drawn
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    status = scene.avi_talking.last_status
    assert "WILL NOT PLAY: jawOpen, mouthSmileLeft of 'Face' are driven" in status
    assert shape_values(scene, head, range(1, 37), ["jawOpen"]).max() < 1e-6  # indeed: the driver holds it
