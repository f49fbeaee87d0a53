"""Two characters in one scene through the real server: each looks at the other while it speaks, listens
while the other speaks (mouth closed, never over its own line), and it survives save and reopen."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pytest

from .helpers import add_line
from .test_scene_batch import demo_head

EYE_LOOK_YAW_RAD, EYE_LOOK_PITCH_RAD = 0.56, 0.61  # model_server/nonverbal/behaviour.py


@pytest.fixture
def dialogue_scene(scene, blender, front_center_wav, tmp_path):
    """Ada faces +X, Ben stands 1.2 m in front of her and 0.4 m to her left, facing her; Ben interrupts Ada."""
    ada, ben = demo_head(blender, "Ada"), demo_head(blender, "Ben")
    ada.rotation_mode = ben.rotation_mode = "XYZ"  # glTF's import leaves them in quaternions
    ada.rotation_euler = (0, 0, math.pi / 2)  # the demo head faces -Y: turned to face +X
    ben.location, ben.rotation_euler = (1.2, 0.4, 0.0), (0, 0, -math.pi / 2)
    scene.avi_talking.target = ada
    second = tmp_path / "ben.wav"
    shutil.copy(front_center_wav, second)
    add_line(scene, front_center_wav, frame_start=1, dialogue="front center", name="ada")
    add_line(scene, second, frame_start=25, dialogue="front center", name="ben")
    blender.context.view_layer.objects.active = ben
    assert blender.ops.avi_talking.use_selected_as_line_face() == {"FINISHED"}
    return ada, ben


def gaze_direction(face, scene, frame: int) -> np.ndarray:
    """Where the face's eyes look in the world at `frame`: its eyeLook keys as angles, turned with the head."""
    from mathutils import Vector

    scene.frame_set(frame)
    keys = face.data.shape_keys.key_blocks
    yaw = (keys["eyeLookOutLeft"].value - keys["eyeLookInLeft"].value) * EYE_LOOK_YAW_RAD
    pitch = (keys["eyeLookDownLeft"].value - keys["eyeLookUpLeft"].value) * EYE_LOOK_PITCH_RAD
    ahead = Vector((math.sin(yaw) * math.cos(pitch), -math.cos(yaw) * math.cos(pitch), -math.sin(pitch)))
    return np.array(face.matrix_world.to_3x3().normalized() @ ahead)


def test_characters_look_at_each_other_and_listen(dialogue_scene, scene, blender, addon, tmp_path):
    ada, ben = dialogue_scene
    assert blender.ops.avi_talking.generate_all() == {"FINISHED"}
    report = scene.avi_talking.last_status
    assert "'Ben' listens" in report and "'Ada' listens" in report
    dialogue = addon("dialogue")

    # Ada, speaking, looks at Ben's head (most of the time: the median direction, look-aways aside).
    errors = []
    for frame in range(3, 24):
        toward = np.array(dialogue.head_point(ben) - dialogue.head_point(ada))
        seen = gaze_direction(ada, scene, frame)
        errors.append(math.degrees(math.acos(np.clip(np.dot(seen, toward / np.linalg.norm(toward)), -1, 1))))
    assert np.median(errors) < 4.0

    # Ben listens to Ada until his own line starts: mouth closed, and nothing of it over his own line.
    (listening,) = ben.data.shape_keys.animation_data.nla_tracks["AVI listening"].strips
    assert listening.frame_start == 1 and listening.blend_type == "ADD"
    jaw = []
    for frame in range(2, 22):
        scene.frame_set(frame)
        jaw.append(ben.data.shape_keys.key_blocks["jawOpen"].value)
    assert max(jaw) < 0.01
    head_strip = ben.animation_data.nla_tracks["AVI listening"].strips[0]
    assert head_strip.blend_type == "COMBINE"
    action = head_strip.action
    bag = action.layers[0].strips[0].channelbag(head_strip.action_slot) if hasattr(action, "layers") else action
    rotation = [fc for fc in bag.fcurves if fc.data_path == "delta_rotation_euler"]
    assert max(abs(fc.evaluate(10)) for fc in rotation) > 1e-4  # he moves while he listens …
    assert all(abs(fc.evaluate(frame)) < 1e-9 for fc in rotation for frame in range(25, 36))  # … not over his line

    path = tmp_path / "dialogue.blend"
    blender.ops.wm.save_as_mainfile(filepath=str(path), copy=True)
    blender.ops.wm.open_mainfile(filepath=str(path))
    ben = blender.data.objects["Ben"]
    assert "AVI listening" in ben.data.shape_keys.animation_data.nla_tracks
    assert "AVI listening" in ben.animation_data.nla_tracks and ben.avi_listens


def test_a_face_switched_off_does_not_listen(dialogue_scene, scene, blender):
    ada, ben = dialogue_scene
    ben.avi_listens = False
    assert blender.ops.avi_talking.generate_all() == {"FINISHED"}
    assert "AVI listening" not in ben.data.shape_keys.animation_data.nla_tracks
    assert "AVI listening" in ada.data.shape_keys.animation_data.nla_tracks


def test_one_face_looks_at_the_gaze_object_or_ahead(scene, blender, addon, front_center_wav):
    face = demo_head(blender, "Solo")
    face.rotation_mode = "XYZ"
    target = blender.data.objects.new("Mark", None)  # an empty where the other actor stands
    scene.collection.objects.link(target)
    target.location = (0.4, -1.2, 0.0)  # in front of the face (it looks along -Y) and to its left (+X)
    add_line(scene, front_center_wav, frame_start=1, dialogue="front center", name="solo")
    settings = scene.avi_talking
    settings.target, settings.gaze_target, settings.gaze_object = face, "OBJECT", target
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    dialogue = addon("dialogue")
    toward = np.array(target.location - dialogue.head_point(face))
    errors = [math.degrees(math.acos(np.clip(np.dot(gaze_direction(face, scene, f), toward / np.linalg.norm(toward)),
                                             -1, 1))) for f in range(3, 30)]
    assert np.median(errors) < 4.0
    settings.gaze_target = "FORWARD"
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    ahead = [gaze_direction(face, scene, f) for f in range(3, 30)]
    assert np.median([math.degrees(math.atan2(d[0], -d[1])) for d in ahead]) == pytest.approx(0.0, abs=2.0)


def angle_to(direction: np.ndarray, source, target, dialogue) -> float:
    toward = np.array(dialogue.head_point(target) - dialogue.head_point(source))
    cosine = np.dot(direction, toward / np.linalg.norm(toward))
    return math.degrees(math.acos(np.clip(cosine, -1, 1)))


def listening_fcurves(face) -> list:
    """Every F-curve of the face's listening strips (shape keys and head) with the strip that plays it (its
    keys are on scene frames; outside the strip it plays nothing)."""
    out = []
    for owner in (face.data.shape_keys, face):
        for track in owner.animation_data.nla_tracks:
            for strip in track.strips if track.name.startswith("AVI listening") else ():
                action = strip.action
                bag = action.layers[0].strips[0].channelbag(strip.action_slot) if hasattr(action, "layers") else action
                out += [(strip, fc) for fc in bag.fcurves]
    return out


def test_four_characters_interrupting_each_listen_to_one_voice_at_a_time(scene, blender, addon, front_center_wav,
                                                                       tmp_path):
    """Four heads in a circle, facing its middle. Ben interrupts Ada; Cy speaks after a pause; Dee last.
    Each speaker looks at the face it talks to; the others listen to the voice that started last, never
    over their own lines; one undo takes it all back."""
    dialogue = addon("dialogue")
    names = ["Ada", "Ben", "Cy", "Dee"]
    faces = {}
    for index, name in enumerate(names):
        face = demo_head(blender, name)
        theta = index * math.pi / 2
        face.rotation_mode = "XYZ"
        face.location = (math.cos(theta), math.sin(theta), 0.0)
        face.rotation_euler = (0, 0, theta - math.pi / 2)  # the demo head faces -Y: turned to the middle
        faces[name] = face
    starts = {"Ada": 1, "Ben": 25, "Cy": 70, "Dee": 110}
    for name, start in starts.items():
        audio = tmp_path / f"{name}.wav"
        shutil.copy(front_center_wav, audio)
        add_line(scene, audio, frame_start=start, dialogue="front center", name=name.lower())
        scene.avi_talking.target = faces[name]  # the active line's face: set through the line, as a user does
        blender.context.view_layer.objects.active = faces[name]
        assert blender.ops.avi_talking.use_selected_as_line_face() == {"FINISHED"}
    blender.ops.ed.undo_push(message="before Generate All")
    assert blender.ops.avi_talking.generate_all() == {"FINISHED"}
    report = scene.avi_talking.last_status
    for name in names:
        assert f"{name.lower()}: keyed" in report
        assert sum(f"'{name}' listens" in line for line in report.splitlines()) == 3, report
    ends = {name: starts[name] + 36 for name in names}  # the line lasts 1.4 s: 36 frames at 25 fps

    # No face's listening plays over its own line.
    for name, face in faces.items():
        for strip, fcurve in listening_fcurves(face):
            for frame in range(max(starts[name], int(strip.frame_start)), min(ends[name], int(strip.frame_end) + 1)):
                assert abs(fcurve.evaluate(frame)) < 1e-6, (name, strip.name, fcurve.data_path, frame)

    # Cy speaks after Ben's line, closer in time to Dee's: Cy looks at Dee.
    errors = [angle_to(gaze_direction(faces["Cy"], scene, f), faces["Cy"], faces["Dee"], dialogue)
              for f in range(72, 100)]
    assert np.median(errors) < 5.0
    # While Ben interrupts Ada, Cy and Dee listen to Ben, not to Ada, with one listening layer each.
    for name in ("Cy", "Dee"):
        seen = [gaze_direction(faces[name], scene, f) for f in range(28, 36)]
        to_ben = np.median([angle_to(s, faces[name], faces["Ben"], dialogue) for s in seen])
        to_ada = np.median([angle_to(s, faces[name], faces["Ada"], dialogue) for s in seen])
        assert to_ben < 6.0 and to_ada > 30.0, (name, to_ben, to_ada)
        for frame in range(28, 36):
            playing = {strip.name for strip, fc in listening_fcurves(faces[name])
                       if strip.frame_start <= frame <= strip.frame_end and abs(fc.evaluate(frame)) > 1e-6}
            assert len(playing) <= 2 and len({p.split()[0] for p in playing}) == 1, (name, frame, playing)

    blender.ops.ed.undo_push(message="Generate All")  # what the UI records for one UNDO operator
    assert blender.ops.ed.undo() == {"FINISHED"}
    for name in names:
        face = blender.data.objects[name]
        assert face.data.shape_keys.animation_data is None or not len(face.data.shape_keys.animation_data.nla_tracks)
