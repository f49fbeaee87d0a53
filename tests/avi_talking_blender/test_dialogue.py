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
