"""Which meshes can be animated, and which strip is the dialogue."""

from __future__ import annotations

import pytest

from .helpers import add_sound_strip, mesh_with_keys


def test_a_plain_cube_is_refused_with_a_clear_message(scene, blender, addon):
    blender.ops.mesh.primitive_cube_add()
    with pytest.raises(addon("targets").TargetError, match="no FLAME expression keys.*no ARKit shape keys"):
        addon("targets").find_target(blender.context.object)


def test_prefixed_arkit_names_are_recognised(scene, addon):
    names = [f"blendShape1.{name}" for name in ("jawOpen", "mouthClose", "EyeBlinkLeft", "browInnerUp",
                                                "mouthSmileLeft", "mouthSmileRight", "cheekPuff", "tongueOut")]
    target = addon("targets").find_target(mesh_with_keys("Face", names))
    assert target.kind == "arkit"
    assert target.key_for_channel["eyeBlinkLeft"] == "blendShape1.EyeBlinkLeft"


def test_flame_addon_rig_is_recognised_with_its_jaw_bone(scene, addon):
    from .helpers import flame_addon_rig

    target = addon("targets").find_target(flame_addon_rig(scene))
    assert target.kind == "flame" and len(target.key_for_channel) == 50  # Exp1..Exp50 of the 100
    assert target.key_for_channel["exp0"] == "Exp1" and target.jaw_bone[1] == "jaw"


def test_active_sound_strip_and_its_start(scene, addon, front_center_wav):
    add_sound_strip(scene, front_center_wav, frame_start=48)
    clip = addon("sequencer").active_sound_clip(scene)
    assert clip.start_frame == 48 and clip.path == str(front_center_wav)


def test_missing_or_wrong_strip_messages(scene, addon):
    errors = addon("sequencer")
    with pytest.raises(errors.StripError, match="add the dialogue as a sound strip"):
        errors.active_sound_clip(scene)
    editor = scene.sequence_editor_create()
    strips = editor.strips if hasattr(editor, "strips") else editor.sequences
    # Blender 4.2 gives an effect strip its end frame, 4.4 and later its length.
    span = {"length": 10} if "length" in strips.bl_rna.functions["new_effect"].parameters else {"frame_end": 11}
    color = strips.new_effect(name="title", type="COLOR", channel=2, frame_start=1, **span)
    editor.active_strip = color
    with pytest.raises(errors.StripError, match="not a sound strip"):
        errors.active_sound_clip(scene)


def test_case_variants_count_but_a_few_coincidences_do_not(scene, addon):
    targets = addon("targets")
    names = ["JawOpen", "MOUTHCLOSE", "eyeblinkleft", "BrowInnerUp", "MouthSmile_L", "mouthSmileLeft",
             "mouthSmileRight", "cheekPuff", "tongueOut"]
    target = targets.find_target(mesh_with_keys("Face", names))
    assert target.key_for_channel["jawOpen"] == "JawOpen" and len(target.key_for_channel) == 8
    with pytest.raises(targets.TargetError, match="'Few' has no FLAME expression keys"):
        targets.find_target(mesh_with_keys("Few", ["jawOpen", "smile", "Key 3"]))


def test_a_flame_head_without_a_rig_uses_its_jaw_shape_key(scene, addon):
    targets = addon("targets")
    target = targets.find_target(mesh_with_keys("FLAME-head", [f"Exp{k}" for k in range(1, 51)] + ["FLAME_jaw"]))
    assert target.kind == "flame" and target.jaw_bone is None
    assert target.key_for_channel["jaw_pitch"] == "FLAME_jaw" and target.key_for_channel["exp49"] == "Exp50"


def test_the_only_sound_strip_is_used_when_none_is_active(scene, addon, front_center_wav):
    strip = add_sound_strip(scene, front_center_wav, frame_start=7)
    scene.sequence_editor.active_strip = None
    assert addon("sequencer").active_sound_clip(scene).name == strip.name
    assert [s.name for s in addon("sequencer").all_strips(scene)] == [strip.name]


def test_a_stray_exp1_key_on_an_arkit_rig_does_not_make_it_flame(scene, addon):
    from model_server.arkit import ARKIT_NAMES

    target = addon("targets").find_target(mesh_with_keys("Face", list(ARKIT_NAMES) + ["Exp1"]))
    assert target.kind == "arkit" and len(target.key_for_channel) == 52


def test_a_corrective_key_listed_first_does_not_take_the_shapes_curve(scene, addon):
    names = ["jawOpen_mouthClose", "jawOpen", "mouthClose", "eyeBlinkLeft", "browInnerUp", "mouthSmileLeft",
             "mouthSmileRight", "cheekPuff", "tongueOut"]
    target = addon("targets").find_target(mesh_with_keys("Face", names))
    assert target.key_for_channel["mouthClose"] == "mouthClose"
    assert "jawOpen_mouthClose" not in target.key_for_channel.values()
