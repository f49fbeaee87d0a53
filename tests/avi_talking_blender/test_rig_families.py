"""Each common rig family's shape-key names are recognised and keyed: jaw, lips, blinks and brows move."""

from __future__ import annotations

import numpy as np
import pytest

from model_server.arkit import ARKIT_NAMES
from model_server.curves import build_curves

from .helpers import mesh_with_keys

_CC4 = ["Jaw_Open", "Mouth_Close", "Mouth_Funnel", "Mouth_Pucker", "Mouth_Smile_L", "Mouth_Smile_R",
        "Mouth_Press_L", "Mouth_Press_R", "Mouth_Up_Upper_L", "Mouth_Up_Upper_R", "Mouth_Down_Lower_L",
        "Mouth_Down_Lower_R", "Eye_Blink_L", "Eye_Blink_R", "Brow_Drop_L", "Brow_Drop_R", "Brow_Raise_Inner_L",
        "Brow_Raise_Inner_R", "Brow_Raise_Outer_L", "Brow_Raise_Outer_R", "Cheek_Puff_L", "Cheek_Puff_R"]
FAMILIES = {
    "ARKit exact": (list(ARKIT_NAMES), {"jawOpen": "jawOpen", "eyeBlinkLeft": "eyeBlinkLeft"}),
    "MetaHuman (PascalCase)": ([n[0].upper() + n[1:] for n in ARKIT_NAMES], {"eyeBlinkRight": "EyeBlinkRight"}),
    "side suffixes _L/_R": ([n.replace("Left", "_L").replace("Right", "_R") for n in ARKIT_NAMES],
                            {"mouthSmileLeft": "mouthSmile_L", "eyeBlinkRight": "eyeBlink_R"}),
    "side suffixes .L/.R": ([n.replace("Left", ".L").replace("Right", ".R") for n in ARKIT_NAMES],
                            {"browDownLeft": "browDown.L"}),
    "snake_case": (["jaw_open", "mouth_close", "mouth_smile_left", "mouth_smile_right", "mouth_lower_down_left",
                    "mouth_lower_down_right", "eye_blink_l", "eye_blink_r", "brow_down_left", "brow_inner_up"],
                   {"eyeBlinkLeft": "eye_blink_l", "browInnerUp": "brow_inner_up"}),
    "Character Creator 4": (_CC4, {"browDownLeft": "Brow_Drop_L", "eyeBlinkLeft": "Eye_Blink_L",
                                   "mouthUpperUpRight": "Mouth_Up_Upper_R"}),
}
MOVING = ("jawOpen", "mouthClose", "eyeBlinkLeft", "eyeBlinkRight")  # jaw, lips, blinks
BROWS = ("browDownLeft", "browInnerUp")


def every_channel_ramps(frames: int = 20) -> dict:
    ramp = np.linspace(0, 1, frames)[:, None] * np.linspace(0.3, 1.0, 52)[None, :]  # each channel its own peak
    return build_curves(fps=25.0, arkit_weights=ramp.tolist(), flame_expression=np.zeros((frames, 50)).tolist(),
                        flame_jaw=np.zeros((frames, 3)).tolist(), instruction="", segments=[], transcript="",
                        phones=[], model={"test": "ramps"})


@pytest.mark.parametrize("family", list(FAMILIES))
def test_each_rig_family_is_keyed_on_jaw_lips_blinks_and_brows(scene, blender, addon, family):
    names, expected = FAMILIES[family]
    face = mesh_with_keys("Face", names)
    target = addon("targets").find_target(face)
    assert target.kind == "arkit"
    if len(names) == len(ARKIT_NAMES):  # a full ARKit set in another naming: none of the 52 is dropped
        assert len(target.key_for_channel) == 52
    for channel, key in expected.items():
        assert target.key_for_channel[channel] == key
    addon("curves_writer").apply_curves(scene, face, every_channel_ramps(), start_frame=1, action_name="AVI_test")
    blocks = face.data.shape_keys.key_blocks
    mapped = {**{k: c for c, k in target.key_for_channel.items()}, **target.also_keyed}
    moving = [c for c in MOVING + BROWS if c in mapped.values()]
    assert set(MOVING) <= set(moving) and any(b in moving for b in BROWS)
    scene.frame_set(20)
    for key, channel in mapped.items():
        assert blocks[key].value == pytest.approx(0.3 + 0.7 * ARKIT_NAMES.index(channel) / 51, abs=1e-4), key


def test_two_sided_character_creator_keys_both_follow_their_one_arkit_channel(scene, addon):
    target = addon("targets").find_target(mesh_with_keys("Face", _CC4))
    assert target.key_for_channel["cheekPuff"] == "Cheek_Puff_L" and target.also_keyed["Cheek_Puff_R"] == "cheekPuff"
    assert target.also_keyed["Brow_Raise_Inner_R"] == "browInnerUp"


def test_a_faces_own_mapping_table_with_weights_is_keyed_and_saved(scene, blender, addon, tmp_path):
    from .test_panels import CheckingLayout

    face = mesh_with_keys("Odd", ["JawDrop", "LipsTogether", "BlinkL", "BlinkR", "BrowsAngry", "Spare"])
    with pytest.raises(addon("targets").TargetError, match="6 shape keys"):  # its names say nothing
        addon("targets").find_target(face)
    for channel, key, weight in (("jawOpen", "JawDrop", 0.5), ("mouthClose", "LipsTogether", 1.0),
                                 ("eyeBlinkLeft", "BlinkL", 1.0), ("eyeBlinkRight", "BlinkR", 1.0),
                                 ("browDownLeft", "BrowsAngry", 1.0), ("browDownRight", "BrowsAngry", 1.0)):
        row = face.avi_key_mapping.add()
        row.channel, row.key, row.weight = channel, key, weight
    target = addon("targets").find_target(face)
    assert target.from_table and addon("targets").unmapped_keys(target) == ["Spare"]
    scene.avi_talking.target = face
    drawn: list = []
    addon("panels").draw_avi_talking(CheckingLayout(blender, drawn), blender.context)
    assert ("prop_search", "key") in drawn and any("Not keyed: Spare" in d[1] for d in drawn if d[0] == "label")
    addon("curves_writer").apply_curves(scene, face, every_channel_ramps(), start_frame=1, action_name="AVI_test")
    scene.frame_set(20)
    jaw = 0.3 + 0.7 * ARKIT_NAMES.index("jawOpen") / 51
    assert face.data.shape_keys.key_blocks["JawDrop"].value == pytest.approx(0.5 * jaw, abs=1e-4)
    path = tmp_path / "mapped.blend"
    blender.ops.wm.save_as_mainfile(filepath=str(path))
    blender.ops.wm.open_mainfile(filepath=str(path))
    face = blender.data.objects["Odd"]
    assert [(r.channel, r.key, r.weight) for r in face.avi_key_mapping][0] == ("jawOpen", "JawDrop", 0.5)
    face.avi_key_mapping[0].key = "Missing"
    with pytest.raises(addon("targets").TargetError, match="no shape key 'Missing'"):
        addon("targets").find_target(face)


def test_fill_mapping_writes_the_names_mapping_into_an_editable_table(scene, blender):
    face = mesh_with_keys("Face", [n.replace("Left", "_L").replace("Right", "_R") for n in ARKIT_NAMES])
    scene.avi_talking.target = face
    assert blender.ops.avi_talking.fill_key_mapping() == {"FINISHED"}
    rows = {(r.channel, r.key) for r in face.avi_key_mapping}
    assert len(rows) == 52 and ("mouthSmileLeft", "mouthSmile_L") in rows
    assert blender.ops.avi_talking.clear_key_mapping() == {"FINISHED"}
    assert len(face.avi_key_mapping) == 0


VISEME_RIGS = {
    "VRM 0.x": ["A", "I", "U", "E", "O", "Blink", "Blink_L", "Blink_R", "Angry", "Joy", "Sorrow"],
    "VRM 1.0": ["aa", "ih", "ou", "ee", "oh", "blink", "blinkLeft", "blinkRight", "angry", "happy", "sad"],
    "VRoid": ["Fcl_MTH_A", "Fcl_MTH_I", "Fcl_MTH_U", "Fcl_MTH_E", "Fcl_MTH_O", "Fcl_EYE_Close_L",
              "Fcl_EYE_Close_R", "Fcl_BRW_Angry", "Fcl_BRW_Surprised"],
    "Oculus visemes": [f"viseme_{v}" for v in ("sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa",
                                                "E", "I", "O", "U")],
}


@pytest.mark.parametrize("rig", list(VISEME_RIGS))
def test_viseme_rigs_get_curves_derived_from_the_real_articulation(scene, blender, addon, rig, asterisk_recording):
    """A real line through the real model process: the mouth visemes open, close and round with the speech."""
    from .helpers import add_line

    face = mesh_with_keys("Avatar", VISEME_RIGS[rig])
    target = addon("targets").find_target(face)
    assert target.kind == "viseme"
    path, transcript = asterisk_recording("agent-pass")  # "Please enter your password followed by the pound key."
    add_line(scene, path, frame_start=1, dialogue=transcript,
             instruction="A fairly angry person speaks with brow quite lowered.")
    scene.avi_talking.target = face
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    blocks = face.data.shape_keys.key_blocks
    mouth = [name for name, channel in ((k, c) for c, k in target.key_for_channel.items())
             if channel.startswith(("vowel_", "viseme_")) and channel != "viseme_sil"]
    frames = range(1, int(scene.sequence_editor.active_strip.frame_final_end))
    peaks = {}
    for frame in frames:
        scene.frame_set(frame)
        for name in mouth:
            peaks[name] = max(peaks.get(name, 0.0), blocks[name].value)
    moving = [name for name, peak in peaks.items() if peak > 0.2]
    assert len(moving) >= 3, peaks  # several mouth shapes in one sentence, not silence
    if rig == "Oculus visemes":
        assert peaks["viseme_PP"] > 0.9  # please, password, by, pound: the lips close
    if rig == "VRoid":  # the instruction's expression reaches the brows
        scene.frame_set(40)
        assert blocks["Fcl_BRW_Angry"].value > 0.05


@pytest.mark.parametrize("rig", ["VRM 0.x", "VRM 1.0", "VRoid"])
def test_viseme_rigs_blink_and_show_the_expression(scene, addon, rig):
    face = mesh_with_keys("Avatar", VISEME_RIGS[rig])
    target = addon("targets").find_target(face)
    addon("curves_writer").apply_curves(scene, face, every_channel_ramps(), start_frame=1, action_name="AVI_test")
    scene.frame_set(20)
    blocks = face.data.shape_keys.key_blocks
    channels = {channel: blocks[key].value for channel, key in target.key_for_channel.items()}
    assert channels["blink_L"] > 0.25 and channels["blink_R"] > 0.25  # the eyeBlink ramps peak at 0.3 and 0.4
    assert channels["angry"] > 0.3  # browDown, from the ARKit channels


def test_a_rig_with_few_arkit_keys_starts_its_table_from_them_and_rows_can_be_added(scene, blender, addon):
    face = mesh_with_keys("Few", ["jawOpen", "mouthClose", "Blink", "SmileL", "SmileR"])
    with pytest.raises(addon("targets").TargetError, match="2 of at least 8 found"):
        addon("targets").find_target(face)
    scene.avi_talking.target = face
    assert blender.ops.avi_talking.fill_key_mapping() == {"FINISHED"}
    assert [(r.channel, r.key) for r in face.avi_key_mapping] == [("jawOpen", "jawOpen"), ("mouthClose", "mouthClose")]
    for channel, key in (("eyeBlinkLeft", "Blink"), ("mouthSmileLeft", "SmileL"), ("eyeBlinkRight", "Blink")):
        assert blender.ops.avi_talking.add_key_mapping_row() == {"FINISHED"}
        face.avi_key_mapping[-1].channel, face.avi_key_mapping[-1].key = channel, key
    assert blender.ops.avi_talking.remove_key_mapping_row(index=0) == {"FINISHED"}
    target = addon("targets").find_target(face)
    assert target.table_rows["Blink"] == [("eyeBlinkLeft", 1.0), ("eyeBlinkRight", 1.0)]  # one key, both eyes
    assert addon("targets").unmapped_keys(target) == ["jawOpen", "SmileR"]
    addon("curves_writer").apply_curves(scene, face, every_channel_ramps(), start_frame=1, action_name="AVI_test")
    scene.frame_set(20)
    both = (0.3 + 0.7 * ARKIT_NAMES.index("eyeBlinkLeft") / 51 + 0.3 + 0.7 * ARKIT_NAMES.index("eyeBlinkRight") / 51) / 2
    assert face.data.shape_keys.key_blocks["Blink"].value == pytest.approx(both, abs=1e-4)
