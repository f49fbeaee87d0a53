"""Key poses: far fewer keys, Bézier between, every frame within the tolerance of the dense curve
and every /p b m/ closure keyed on its frame, in real Blender with the real model process."""

from __future__ import annotations

import json

import numpy as np

from .helpers import REPO, add_line
from .test_scene_batch import demo_head, shape_values


def key_count(face) -> int:
    animation = face.data.shape_keys.animation_data
    total = 0
    for track in animation.nla_tracks:
        if track.name == "AVI rest":
            continue
        for strip in track.strips:
            action = strip.action
            bag = action.layers[0].strips[0].channelbag(strip.action_slot) if hasattr(action, "layers") else action
            total += sum(len(fc.keyframe_points) for fc in bag.fcurves)
    return total


def test_key_poses_stay_within_tolerance_keep_closures_and_cut_keys_fivefold(scene, blender, addon):
    settings = scene.avi_talking
    demo = REPO / "assets" / "demo_speech.wav"
    dense, poses = demo_head(blender, "Dense"), demo_head(blender, "Poses")
    words = (REPO / "assets" / "demo_speech.txt").read_text().strip()
    settings.samples = 2  # the takes are kept, and with them the phones the server aligned
    # The same recording twice, a line for each face (one line animates one face).
    add_line(scene, demo, frame_start=1, dialogue=words, name="dense")
    settings.target, settings.key_density = dense, "FRAMES"
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    add_line(scene, demo, frame_start=1, dialogue=words, name="poses")
    settings.target, settings.key_density = poses, "POSES"
    assert blender.ops.avi_talking.generate() == {"FINISHED"}

    assert key_count(poses) * 5 <= key_count(dense), (key_count(poses), key_count(dense))
    names = [b.name for b in dense.data.shape_keys.key_blocks[1:]]
    last = max(int(s.frame_end) for t in dense.data.shape_keys.animation_data.nla_tracks for s in t.strips)
    frames = range(1, last + 1)
    exact, reduced = shape_values(scene, dense, frames, names), shape_values(scene, poses, frames, names)
    # Three layers add up, each within 0.02 of its own dense curve.
    assert np.abs(exact - reduced).max() <= 3 * 0.02 + 1e-6
    curves = json.loads(settings.takes[0].curves_text.as_string())
    closures = addon("key_poses").closure_indices(curves["phones"], 25.0, len(frames))
    assert len(closures) >= 3  # the demo line has /p b m/ to close
    lips = [names.index(n) for n in ("jawOpen", "mouthClose", "mouthFunnel", "mouthPucker")]
    for index in closures:
        np.testing.assert_allclose(reduced[index, lips], exact[index, lips], atol=1e-3)

