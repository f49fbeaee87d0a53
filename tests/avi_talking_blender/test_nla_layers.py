"""The generated Action composes with the animator's own NLA layers instead of masking them."""

from __future__ import annotations

import pytest

from .helpers import add_line, animator_strip, generated_action
from .test_export import read_glb_json, weights_at


def test_a_hand_keyed_blink_in_an_nla_strip_still_plays_after_generate(scene, blender, front_center_wav):
    blender.ops.avi_talking.add_demo_head()
    head = scene.avi_talking.target
    key = head.data.shape_keys
    # The animator's blink: a strip on an NLA track, frames 60-66, eyes shut at 63.
    animator_strip(key, "eyeBlinkLeft", ((60, 0.0), (63, 1.0), (66, 0.0)), "blink")
    scene.frame_set(63)
    assert key.key_blocks["eyeBlinkLeft"].value == pytest.approx(1.0)
    add_line(scene, front_center_wav, frame_start=31, dialogue="front center")
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    assert generated_action(key).name.startswith("AVI_")
    assert [t.name for t in key.animation_data.nla_tracks if not t.name.startswith("AVI ")] == ["NlaTrack"]  # kept
    scene.frame_set(63)
    assert key.key_blocks["eyeBlinkLeft"].value >= 0.99  # the hand blink still closes the eye
    scene.frame_set(40)
    assert key.key_blocks["jawOpen"].value > 0.05  # and the generated speech plays over it



def test_the_glb_carries_what_the_scene_plays_with_the_animator_s_strip(scene, blender, addon, front_center_wav,
                                                                        tmp_path):
    """The animator's own NLA strip under a generated take, at 24 fps: every sampled weight of the exported
    glTF is the value the scene plays at that frame, the take's lips and their strip alike."""
    scene.render.fps = 24
    blender.ops.avi_talking.add_demo_head()
    key = scene.avi_talking.target.data.shape_keys
    animator_strip(key, "browInnerUp", ((40, 0.0), (45, 0.8), (50, 0.0)), "brow")
    add_line(scene, front_center_wav, frame_start=31, dialogue="front center")
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    path = tmp_path / "face.glb"
    assert blender.ops.avi_talking.export_animation(filepath=str(path), format="GLB") == {"FINISHED"}
    _, (first, last) = addon("operators.export").animated_face(scene)
    gltf, data = read_glb_json(path), path.read_bytes()
    played = {}
    for frame in range(first, max(last, first + 1) + 1):
        scene.frame_set(frame)
        for name in ("jawOpen", "browInnerUp"):
            played.setdefault(name, []).append(key.key_blocks[name].value)
    for name, values in played.items():
        assert weights_at(gltf, data, name) == pytest.approx(values, abs=1e-5), name
    assert max(played["jawOpen"]) > 0.05 and max(played["browInnerUp"]) > 0.5  # both move in the file


def test_export_keeps_the_generated_frames_outside_the_scene_range_with_time_zero_at_the_sound(
        scene, blender, front_center_wav, tmp_path):
    from .test_operators_e2e import read_glb

    blender.ops.avi_talking.add_demo_head()
    add_line(scene, front_center_wav, frame_start=50, dialogue="front center")
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    scene.frame_start, scene.frame_end = 1001, 1100  # the shot's range lies elsewhere
    action = generated_action(scene.avi_talking.target.data.shape_keys)
    first, last = (int(f) for f in action.frame_range)
    assert first == 50
    for fmt in ("GLB", "FBX"):
        assert blender.ops.avi_talking.export_animation(filepath=str(tmp_path / f"face.{fmt.lower()}"),
                                                     format=fmt) == {"FINISHED"}
    assert (scene.frame_start, scene.frame_end) == (1001, 1100)  # the animator's range is given back
    gltf = read_glb(tmp_path / "face.glb")
    times = [gltf["accessors"][a["samplers"][c["sampler"]]["input"]]
             for a in gltf["animations"] for c in a["channels"] if c["target"]["path"] == "weights"][0]
    assert times["min"][0] == pytest.approx(0.0)
    assert times["max"][0] == pytest.approx((last - first) / 25, abs=1e-3)
    # FBX read back by Blender's own importer (without the one frame it adds by default): the
    # shape-key keys sit on the frames they had, time = frame / fps.
    blender.ops.wm.read_homefile(use_empty=True)
    blender.ops.import_scene.fbx(filepath=str(tmp_path / "face.fbx"), anim_offset=0.0)
    keys = [o.data.shape_keys for o in blender.data.objects if o.type == "MESH" and o.data.shape_keys]
    imported = keys[0].animation_data.action
    assert [round(f) for f in imported.frame_range] == [first, last]
