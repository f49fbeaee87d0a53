"""Head and eyes on real rigs in real bpy: the head bone of each rig family turns the way the curves say
(a nod looks down, a yaw turns to the speaker's left), eye bones turn the eyes, a face without an armature
turns about its neck, the animator's own head keys still play underneath, and it all survives save,
reopen and undo."""

from __future__ import annotations

import math

import numpy as np
import pytest

from model_server.arkit import ARKIT_NAMES
from model_server.curves import build_curves

from .helpers import mesh_with_keys

FRAMES = 30
PITCH, YAW = 0.2, 0.15  # radians at the last frame: a nod down and a turn to the speaker's left
# Head bones of the rig families, and whether the family's bones rotate in quaternions.
HEAD_BONES = {"Blender/Rigify": ("head", False), "Ready Player Me": ("Head", False), "Mixamo": ("mixamorig:Head", True),
              "Character Creator 4": ("CC_Base_Head", True), "VRM": ("J_Bip_C_Head", True),
              "Rigify deform": ("ORG-spine.006", True), "FLAME add-on": ("neck", False)}
EYE_BONES = ("eye.L", "eye.R")


def head_curves(pitch: float = PITCH, yaw: float = YAW, eye_yaw: float = 0.0) -> dict:
    ramp = np.linspace(0, 1, FRAMES)
    rotation = np.stack([pitch * ramp, yaw * ramp, 0 * ramp], axis=1)
    eyes = np.stack([eye_yaw * ramp, 0 * ramp], axis=1)
    weights = np.zeros((FRAMES, 52))
    weights[:, ARKIT_NAMES.index("eyeLookOutLeft")] = eye_yaw / 0.56 * ramp  # what the gaze keys on shapes
    return build_curves(fps=25.0, arkit_weights=weights.tolist(),
                        flame_expression=np.zeros((FRAMES, 50)).tolist(), flame_jaw=np.zeros((FRAMES, 3)).tolist(),
                        instruction="", segments=[], transcript="", phones=[], model={"test": "head"},
                        head={"rotation": rotation.tolist(), "translation": np.zeros((FRAMES, 3)).tolist()},
                        eyes={"left": eyes.tolist(), "right": eyes.tolist()})


def rigged_face(blender, head_bone: str, quaternion: bool, eyes: bool = False):
    """A face mesh (ARKit keys, facing -Y) deformed by an armature with a spine, a head bone up the neck and,
    if asked, two eye bones in front of it."""
    bpy = blender
    armature = bpy.data.objects.new("Rig", bpy.data.armatures.new("Rig"))
    bpy.context.scene.collection.objects.link(armature)
    bpy.context.view_layer.objects.active = armature
    bpy.ops.object.mode_set(mode="EDIT")
    bones = armature.data.edit_bones
    spine = bones.new("spine")
    spine.head, spine.tail = (0, 0, 1.0), (0, 0, 1.45)
    head = bones.new(head_bone)
    head.head, head.tail, head.parent = (0, 0, 1.5), (0, 0, 1.75), spine
    if eyes:
        for name, x in zip(EYE_BONES, (0.03, -0.03)):
            eye = bones.new(name)
            eye.head, eye.tail, eye.parent = (x, -0.08, 1.62), (x, -0.1, 1.62), head
    bpy.ops.object.mode_set(mode="OBJECT")
    for pose_bone in armature.pose.bones:
        pose_bone.rotation_mode = "QUATERNION" if quaternion else "XYZ"
    face = mesh_with_keys("Face", list(ARKIT_NAMES), vertices=[(0, -0.1, 1.6), (0.05, -0.08, 1.6), (0, -0.1, 1.65)])
    face.parent = armature
    face.modifiers.new("Armature", "ARMATURE").object = armature
    return armature, face


def facing(armature, bone: str, direction=(0, -1, 0)) -> np.ndarray:
    """Where `direction` (the rest pose's front) points once the bone's pose has turned it, in world space."""
    from mathutils import Vector

    pose_bone = armature.pose.bones[bone]
    turn = (armature.matrix_world @ pose_bone.matrix @ pose_bone.bone.matrix_local.inverted()).to_3x3()
    return np.array(turn @ Vector(direction))


def apply(addon, scene, face, curves, **options):
    return addon("curves_writer").apply_curves(scene, face, curves, start_frame=1, action_name="AVI_line",
                                                    line="line", **options)


@pytest.mark.parametrize("family", list(HEAD_BONES))
def test_the_head_bone_of_each_family_nods_and_turns_as_the_curves_say(scene, blender, addon, family):
    bone, quaternion = HEAD_BONES[family]
    armature, face = rigged_face(blender, bone, quaternion)
    apply(addon, scene, face, head_curves())
    (strip,) = armature.animation_data.nla_tracks["AVI head"].strips
    assert strip.blend_type == "COMBINE"
    paths = {fc.data_path for fc in strip.action.layers[0].strips[0].channelbag(strip.action_slot).fcurves} \
        if hasattr(strip.action, "layers") else {fc.data_path for fc in strip.action.fcurves}
    assert paths == {f'pose.bones["{bone}"].rotation_{"quaternion" if quaternion else "euler"}'}
    scene.frame_set(1)
    assert np.allclose(facing(armature, bone), (0, -1, 0), atol=1e-4)
    scene.frame_set(FRAMES)
    front = facing(armature, bone)
    assert math.asin(-front[2]) == pytest.approx(PITCH, abs=0.01)  # a nod looks down
    assert math.atan2(front[0], -front[1]) == pytest.approx(YAW, abs=0.02)  # a yaw turns to the speaker's left (+X)


def test_the_bone_picked_in_the_panel_wins_over_the_names(scene, blender, addon):
    armature, face = rigged_face(blender, "head", False)
    face.avi_head_bone = "spine"
    apply(addon, scene, face, head_curves())
    scene.frame_set(FRAMES)
    assert math.asin(-facing(armature, "spine")[2]) == pytest.approx(PITCH, abs=0.01)
    assert np.allclose(armature.pose.bones["head"].matrix_basis.to_3x3(), np.eye(3), atol=1e-6)


def shape_key_paths(face) -> set[str]:
    action = face.data.shape_keys.animation_data.action
    bag = action.layers[0].strips[0].channelbag(action.slots[0]) if hasattr(action, "layers") else action
    return {fc.data_path for fc in bag.fcurves}


def test_eye_bones_turn_the_eyes_and_the_eye_look_keys_are_left_to_them(scene, blender, addon):
    armature, face = rigged_face(blender, "head", False, eyes=True)
    apply(addon, scene, face, head_curves(pitch=0.0, yaw=0.0, eye_yaw=0.25))
    assert armature.animation_data.nla_tracks["AVI eyes"].strips[0].blend_type == "COMBINE"
    assert 'key_blocks["eyeLookOutLeft"].value' not in shape_key_paths(face)
    assert 'key_blocks["jawOpen"].value' in shape_key_paths(face)
    scene.frame_set(FRAMES)
    for eye in EYE_BONES:
        front = facing(armature, eye)
        assert math.atan2(front[0], -front[1]) == pytest.approx(0.25, abs=0.02)
    rig = addon("head_rig").find_head_rig(face)
    assert rig.eye_bones == EYE_BONES and "bones 'eye.L', 'eye.R'" in rig.eyes_line(True)


def test_without_eye_bones_the_eye_look_keys_move_and_the_panel_says_which(scene, blender, addon):
    armature, face = rigged_face(blender, "head", False)
    apply(addon, scene, face, head_curves(eye_yaw=0.25))
    assert 'key_blocks["eyeLookOutLeft"].value' in shape_key_paths(face)
    assert "AVI eyes" not in {t.name for t in armature.animation_data.nla_tracks}
    rig = addon("head_rig").find_head_rig(face)
    assert rig.eyes_line(True) == "Eyes: the eyeLook shape keys" and "will not move" in rig.eyes_line(False)


def test_a_face_without_an_armature_turns_about_its_neck(scene, blender, addon):
    from mathutils import Vector

    face = mesh_with_keys("Face", list(ARKIT_NAMES),
                          vertices=[(0, -0.1, 1.6), (0.08, 0, 1.45), (-0.08, 0, 1.45), (0, 0, 1.8)])
    face.location = (2.0, 1.0, 0.0)
    apply(addon, scene, face, head_curves(yaw=0.0))
    assert face.animation_data.nla_tracks["AVI head"].strips[0].blend_type == "COMBINE"
    pivot = addon("head_rig").neck_pivot(face)
    front, top = pivot + Vector((0, -0.3, 0)), Vector((0, 0, 1.8))  # a point in front of the neck, the crown
    scene.frame_set(1)
    at_rest = [face.matrix_world @ p for p in (pivot, front, top)]
    scene.frame_set(FRAMES)
    moved = [face.matrix_world @ p for p in (pivot, front, top)]
    assert (moved[0] - at_rest[0]).length < 1e-5  # the neck stays where it is
    assert (moved[2] - moved[0]).length == pytest.approx((at_rest[2] - at_rest[0]).length, abs=1e-5)
    ahead = moved[1] - moved[0]
    assert math.asin(-ahead.normalized().z) == pytest.approx(PITCH, abs=0.01)  # what is in front goes down: a nod


def test_the_animators_own_head_keys_still_play_underneath(scene, blender, addon):
    from mathutils import Quaternion

    armature, face = rigged_face(blender, "head", True)
    turn = Quaternion((0, 0, 1), 0.3)  # the animator turned the head about the armature's up axis
    bone = armature.pose.bones["head"]
    local = bone.bone.matrix_local.to_3x3()
    bone.rotation_quaternion = (local.transposed() @ turn.to_matrix() @ local).to_quaternion()
    bone.keyframe_insert("rotation_quaternion", frame=1)
    animation = armature.animation_data  # the animator's keys, pushed down to a track of their own
    hand = animation.action
    strip = animation.nla_tracks.new().strips.new("hand turn", 1, hand)
    if hasattr(strip, "action_slot"):
        strip.action_slot = animation.action_slot
    animation.action = None
    apply(addon, scene, face, head_curves(yaw=0.0))
    scene.frame_set(FRAMES)
    front = facing(armature, "head")
    assert math.asin(-front[2]) == pytest.approx(PITCH, abs=0.01)  # the generated nod
    assert abs(math.atan2(front[0], -front[1])) == pytest.approx(0.3, abs=0.02)  # and the animator's turn


def test_head_and_eyes_survive_save_reopen_and_one_undo_step(scene, blender, addon, tmp_path):
    bpy = blender
    armature, face = rigged_face(blender, "head", False, eyes=True)
    bpy.ops.ed.undo_push(message="before Generate")
    apply(addon, scene, face, head_curves(eye_yaw=0.2))
    bpy.ops.ed.undo_push(message="Generate")
    path = tmp_path / "head.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path), copy=True)
    assert bpy.ops.ed.undo() == {"FINISHED"}
    rig = bpy.data.objects["Rig"]
    assert rig.animation_data is None or not len(rig.animation_data.nla_tracks)
    bpy.ops.wm.open_mainfile(filepath=str(path))
    rig = bpy.data.objects["Rig"]
    assert {t.name for t in rig.animation_data.nla_tracks} >= {"AVI head", "AVI eyes"}
    bpy.context.scene.frame_set(FRAMES)
    assert math.asin(-facing(rig, "head")[2]) == pytest.approx(PITCH, abs=0.01)


def _fcurves(action) -> list:
    if getattr(action, "layers", None):  # Blender 4.4+: the F-curves live in the action's channelbag
        return list(action.layers[0].strips[0].channelbag(action.slots[0]).fcurves)
    return list(action.fcurves)


def wavy_head_curves() -> dict:
    """A head that nods and turns over the line's 30 frames, the eyes looking left then right."""
    curves = head_curves()
    t = np.linspace(0, 1, len(curves["head"]["rotation"]))
    curves["head"]["rotation"] = np.stack([0.1 * np.sin(2 * np.pi * t), 0.2 * t, 0.03 * np.sin(np.pi * t)],
                                          axis=1).tolist()
    eyes = np.stack([0.15 * np.sin(2 * np.pi * t), 0.05 * t], axis=1).tolist()
    curves["eyes"] = {"left": eyes, "right": eyes}
    return curves


@pytest.mark.parametrize("rig", ["head bone", "no armature"])
def test_key_poses_key_the_head_and_eyes_sparsely_and_play_within_the_tolerance(scene, blender, addon, rig):
    if rig == "head bone":
        armature, face = rigged_face(blender, "head", True, eyes=True)
        owner = armature
    else:
        face = mesh_with_keys("Face", list(ARKIT_NAMES), vertices=[(0, -0.1, 1.6), (0.08, 0, 1.45), (0, 0, 1.8)])
        owner = face
    curves = wavy_head_curves()
    apply(addon, scene, face, curves)  # every frame keyed
    head_rig = addon("head_rig").find_head_rig(face)
    dense = []
    for frame in range(1, FRAMES + 1):
        scene.frame_set(frame)
        dense.append(addon("head_rig").played_head(head_rig))
    scene.avi_talking.key_density = "POSES"
    apply(addon, scene, face, curves)
    (strip,) = owner.animation_data.nla_tracks["AVI head"].strips
    keys = [len(fc.keyframe_points) for fc in _fcurves(strip.action)]
    assert max(keys) < FRAMES * 0.6, keys  # key poses, not every frame
    for frame in range(1, FRAMES + 1):
        scene.frame_set(frame)
        played = addon("head_rig").played_head(head_rig)
        # each of three Euler (or four quaternion) components within 0.003 rad: the angles within three times that
        assert np.abs(np.array(played) - dense[frame - 1]).max() < 0.009
    if rig == "head bone":
        (eyes,) = armature.animation_data.nla_tracks["AVI eyes"].strips
        assert max(len(fc.keyframe_points) for fc in _fcurves(eyes.action)) < FRAMES * 0.6


@pytest.mark.parametrize("rig", ["head bone", "no armature"])
def test_the_played_head_reads_back_the_curves_rotation(scene, blender, addon, rig):
    if rig == "head bone":
        _, face = rigged_face(blender, "mixamorig:Head", True, eyes=True)
    else:
        face = mesh_with_keys("Face", list(ARKIT_NAMES), vertices=[(0, -0.1, 1.6), (0.08, 0, 1.45), (0, 0, 1.8)])
        face.rotation_euler = (0.0, 0.0, 0.4)  # the character stands turned: the head's frame turns with it
    curves = wavy_head_curves()
    apply(addon, scene, face, curves)
    head_rig = addon("head_rig").find_head_rig(face)
    for frame in (1, 17, FRAMES):
        scene.frame_set(frame)
        np.testing.assert_allclose(addon("head_rig").played_head(head_rig), curves["head"]["rotation"][frame - 1],
                                   atol=1e-4)
        if rig == "head bone":
            left, right = addon("head_rig").played_eyes(head_rig)
            np.testing.assert_allclose(left, curves["eyes"]["left"][frame - 1], atol=1e-4)
            np.testing.assert_allclose(right, curves["eyes"]["right"][frame - 1], atol=1e-4)
