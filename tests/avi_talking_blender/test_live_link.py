"""Live Link Face CSV: the played animation out in the app's layout, and back in onto another rig."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from .helpers import add_line
from .test_scene_batch import HAPPY, demo_head, shape_values


def test_export_then_import_onto_another_head_plays_the_same(scene, blender, front_center_wav, tmp_path):
    settings = scene.avi_talking
    source, copy = demo_head(blender, "Source"), demo_head(blender, "Copy")
    settings.target = source
    add_line(scene, front_center_wav, frame_start=21, dialogue="front center", instruction=HAPPY)
    assert blender.ops.avi_talking.generate() == {"FINISHED"}  # layers: the CSV holds what plays
    path = tmp_path / "take.csv"
    assert blender.ops.avi_talking.export_live_link(filepath=str(path)) == {"FINISHED"}

    rows = list(csv.reader(path.open()))
    assert rows[0][:4] == ["Timecode", "BlendShapeCount", "EyeBlinkLeft", "EyeLookDownLeft"]
    assert rows[0][-9:] == ["HeadYaw", "HeadPitch", "HeadRoll", "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
                            "RightEyeYaw", "RightEyePitch", "RightEyeRoll"]
    assert len(rows[0]) == 63 and rows[1][:2] == ["00:00:00:00.000", "61"]
    assert rows[26][0] == "00:00:01:00.000"  # 25 fps: row 26 is one second in
    frames = len(rows) - 1
    assert frames == 36

    settings.target = copy
    scene.frame_set(21)
    assert blender.ops.avi_talking.import_live_link(filepath=str(path), source_fps=25.0) == {"FINISHED"}
    names = ["jawOpen", "mouthSmileLeft", "mouthClose", "eyeBlinkLeft", "browInnerUp", "cheekSquintRight"]
    played = shape_values(scene, source, range(21, 21 + frames), names)
    imported = shape_values(scene, copy, range(21, 21 + frames), names)
    np.testing.assert_allclose(imported, played, atol=2e-6)
    assert played[:, 1].max() > 0.3  # the smile is in the file, not just zeros


def test_bad_csvs_and_non_arkit_faces_are_refused_with_a_message(scene, blender, tmp_path):
    from .helpers import mesh_with_keys

    settings = scene.avi_talking
    settings.target = demo_head(blender, "Face")
    cases = {"empty.csv": "", "other.csv": "a,b,c\n1,2,3\n",
             "short.csv": "Timecode,BlendShapeCount,JawOpen,MouthClose,EyeBlinkLeft,EyeBlinkRight,BrowInnerUp,"
                          "CheekPuff,TongueOut,MouthPucker\n00:00:00:00.000,61,0.5\n",
             "nan.csv": "Timecode,BlendShapeCount,JawOpen,MouthClose,EyeBlinkLeft,EyeBlinkRight,BrowInnerUp,"
                        "CheekPuff,TongueOut,MouthPucker\n00:00:00:00.000,61,nan,0,0,0,0,0,0,0\n"}
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(RuntimeError, match="Live Link|columns|finite|Timecode"):
            blender.ops.avi_talking.import_live_link(filepath=str(tmp_path / name))
    assert settings.target.data.shape_keys.animation_data is None  # nothing was written
    settings.target = mesh_with_keys("FLAME-ish", [f"Exp{k}" for k in range(1, 51)])
    with pytest.raises(RuntimeError, match="needs a face with ARKit shape keys"):
        blender.ops.avi_talking.export_live_link(filepath=str(tmp_path / "x.csv"))


@pytest.mark.parametrize("rig", ["head and eye bones", "no armature, eyeLook keys"])
def test_the_csv_carries_the_head_and_eye_turns_as_they_play(scene, blender, addon, tmp_path, rig):
    from model_server.arkit import ARKIT_NAMES

    from .helpers import mesh_with_keys
    from .test_head_rig import FRAMES, PITCH, YAW, head_curves, rigged_face

    if rig == "head and eye bones":
        _, face = rigged_face(blender, "CC_Base_Head", True, eyes=True)
    else:
        face = mesh_with_keys("Face", list(ARKIT_NAMES), vertices=[(0, -0.1, 1.6), (0.08, 0, 1.45), (0, 0, 1.8)])
    scene.avi_talking.target = face
    addon("operators.generate").apply_curves(scene, face, head_curves(eye_yaw=0.2), start_frame=1,
                                             action_name="AVI_line", line="line")
    path = tmp_path / "turns.csv"
    assert blender.ops.avi_talking.export_live_link(filepath=str(path)) == {"FINISHED"}
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == FRAMES
    last = {name: float(value) for name, value in rows[-1].items() if name not in ("Timecode",)}
    assert float(rows[0]["HeadPitch"]) == pytest.approx(0.0, abs=1e-4)
    # Live Link's signs: pitch + looks down, yaw + turns to the speaker's left (as the curves)
    assert last["HeadPitch"] == pytest.approx(PITCH, abs=1e-3) and last["HeadYaw"] == pytest.approx(YAW, abs=1e-3)
    assert last["LeftEyeYaw"] == pytest.approx(0.2, abs=1e-3)
    if rig == "head and eye bones":
        assert last["RightEyeYaw"] == pytest.approx(0.2, abs=1e-3)


@pytest.mark.parametrize("scene_rate", [25, 30])
def test_a_take_imports_at_the_rate_its_timecodes_count(scene, blender, addon, tmp_path, scene_rate):
    """A 3-second take written at 25 fps, imported with no rate given: 3 seconds long, whatever the scene."""
    from model_server.live_link import write_live_link_csv

    face = demo_head(blender, "Face")
    scene.avi_talking.target = face
    frames = [{"jawOpen": i / 74} for i in range(75)]  # 0 → 1 over three seconds at 25 fps
    path = tmp_path / "take.csv"
    path.write_text(write_live_link_csv(frames, 25.0))
    scene.render.fps, scene.render.fps_base = scene_rate, 1.0
    scene.frame_set(1)
    assert blender.ops.avi_talking.import_live_link(filepath=str(path)) == {"FINISHED"}
    played = shape_values(scene, face, range(1, 3 * scene_rate + 1), ["jawOpen"])[:, 0]
    seconds = np.arange(len(played)) / scene_rate
    expected = np.clip(seconds / (74 / 25), 0, 1)  # the ramp's time, not its row count
    keyed = seconds <= 74 / 25
    np.testing.assert_allclose(played[keyed], expected[keyed], atol=1e-4)


def test_a_hostile_csv_is_refused_at_once_and_writes_nothing(scene, blender, tmp_path):
    import time

    from model_server.live_link import HEADER

    settings = scene.avi_talking
    settings.target = demo_head(blender, "Face")
    zeros = ",".join(["0"] * 62)
    path = tmp_path / "bomb.csv"
    path.write_text(",".join(HEADER) + f"\n00:00:00:00.000,{zeros}\n99999:00:00:00.000,{zeros}\n")
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="out of proportion"):
        blender.ops.avi_talking.import_live_link(filepath=str(path))
    assert time.monotonic() - started < 5.0
    assert settings.target.data.shape_keys.animation_data is None
