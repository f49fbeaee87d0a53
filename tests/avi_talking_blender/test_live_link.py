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
    addon("curves_writer").apply_curves(scene, face, head_curves(eye_yaw=0.2), start_frame=1,
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


def hostile_csvs(rng) -> list[tuple[str, str]]:
    """A real take written by the exporter, then broken the ways a file from elsewhere can be."""
    from model_server.live_link import HEADER, write_live_link_csv

    good = write_live_link_csv([{"jawOpen": (i % 9) / 9, "mouthSmileLeft": 0.2} for i in range(90)], 30.0)
    rows = good.splitlines()
    cases = []
    for number in range(60):
        kind = number % 10
        lines = list(rows)
        if kind == 0:  # a timecode far away
            lines[int(rng.integers(1, len(lines)))] = f"{int(rng.integers(100, 10**6))}:00:00:00.000," + \
                lines[1].split(",", 1)[1]
        elif kind == 1:  # non-numbers in the frames field or a value
            row = lines[int(rng.integers(1, len(lines)))].split(",")
            row[int(rng.choice([0, 2, 30]))] = str(rng.choice(["inf", "nan", "-inf", "1e999", "00:00:00:nan"]))
            lines[int(rng.integers(1, len(lines)))] = ",".join(row)
        elif kind == 2:  # an oversized field
            row = lines[2].split(",")
            row[int(rng.integers(2, 20))] = "9" * int(rng.choice([100, 200_000]))
            lines[2] = ",".join(row)
        elif kind == 3:  # a column twice
            lines[0] += "," + str(rng.choice(HEADER[2:]))
            lines[1:] = [line + ",0" for line in lines[1:]]
        elif kind == 4:  # rows cut short, or the header only
            lines = lines[:1] if rng.random() < 0.3 else [lines[0]] + [line[: int(rng.integers(0, len(line)))]
                                                                     for line in lines[1:6]]
        elif kind == 5:  # rows out of order
            body = lines[1:]
            rng.shuffle(body)
            lines = [lines[0]] + body
        elif kind == 6:  # random bytes after the header
            lines = [lines[0], rng.bytes(int(rng.integers(1, 400))).decode("latin-1")]
        elif kind == 7:  # quoting that never closes
            lines[3] = '"' + lines[3]
        elif kind == 8:  # a legal take at another rate, 3 s long
            lines = write_live_link_csv([{"jawOpen": 0.5}] * 72, 24.0).splitlines()
        cases.append((f"case {number} kind {kind}", "\n".join(lines) + "\n"))
    return cases


def test_hostile_live_link_csvs_through_the_real_importer(scene, blender, tmp_path):
    """Sixty seeded broken takes: each keyed or refused with a message, each within a second or two, and a
    refused one writes nothing."""
    import time

    rng = np.random.default_rng(20261207)
    settings = scene.avi_talking
    settings.target = demo_head(blender, "Face")
    outcomes = {"keyed": 0, "refused": 0}
    for what, text in hostile_csvs(rng):
        path = tmp_path / "take.csv"
        path.write_text(text, encoding="latin-1")
        animation = settings.target.data.shape_keys.animation_data
        before = animation.action if animation else None
        started = time.monotonic()
        try:
            result = blender.ops.avi_talking.import_live_link(filepath=str(path))
        except RuntimeError as err:  # the operator's own refusal, with words
            assert "Error" in str(err) and len(str(err)) < 600, (what, str(err)[:300])
            animation = settings.target.data.shape_keys.animation_data
            assert (animation.action if animation else None) == before, what  # nothing written
            outcomes["refused"] += 1
        else:
            assert result == {"FINISHED"}, what
            outcomes["keyed"] += 1
        assert time.monotonic() - started < 3.0, what
    assert outcomes["refused"] >= 30 and outcomes["keyed"] >= 6, outcomes


def test_head_and_eye_columns_import_onto_another_rig(scene, blender, addon, tmp_path):
    """Export from a CC4 rig, import onto a Blender-named rig: the head and eyes turn the same there, on
    strips of their own, and the eyeLook keys are left to the eye bones."""
    from .test_head_rig import FRAMES, head_curves, rigged_face

    source_rig, source = rigged_face(blender, "CC_Base_Head", True, eyes=True)
    scene.avi_talking.target = source
    addon("curves_writer").apply_curves(scene, source, head_curves(eye_yaw=0.2), start_frame=1,
                                        action_name="AVI_line", line="line")
    path = tmp_path / "turns.csv"
    assert blender.ops.avi_talking.export_live_link(filepath=str(path)) == {"FINISHED"}
    expected = []
    for frame in range(1, FRAMES + 1):
        scene.frame_set(frame)
        rig = addon("head_rig").find_head_rig(source)
        expected.append((addon("head_rig").played_head(rig), addon("head_rig").played_eyes(rig)))

    target_rig, target = rigged_face(blender, "head", False, eyes=True)
    scene.avi_talking.target = target
    scene.frame_set(1)
    assert blender.ops.avi_talking.import_live_link(filepath=str(path)) == {"FINISHED"}
    tracks = {t.name for t in target_rig.animation_data.nla_tracks}
    assert {"AVI head", "AVI eyes"} <= tracks
    animation = target.data.shape_keys.animation_data
    keyed = {fc.data_path for fc in addon("nla_layers").fcurves_of(animation.action,
                                                                    getattr(animation, "action_slot", None))}
    assert 'key_blocks["jawOpen"].value' in keyed and not any("eyeLook" in path for path in keyed)
    rig = addon("head_rig").find_head_rig(target)
    for frame in (1, 15, FRAMES):
        scene.frame_set(frame)
        head, eyes = expected[frame - 1]
        np.testing.assert_allclose(addon("head_rig").played_head(rig), head, atol=2e-3)
        np.testing.assert_allclose(addon("head_rig").played_eyes(rig), eyes, atol=2e-3)
