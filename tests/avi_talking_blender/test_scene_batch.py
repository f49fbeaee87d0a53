"""A whole scene at once and output made to be edited, in real Blender with the real model process:
lips, expression and blinks as NLA layers that add up to the take, the expression regenerated alone,
Generate All over every sound strip with a face per line, a report per line, and Cancel."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from .helpers import add_line, line_of, mesh_with_keys

HAPPY = "A very happy person speaks with lip corners strongly raised and cheeks quite raised."
ANGRY = "A very angry person speaks with brow strongly lowered and lips fairly pressed."


def shape_values(scene, obj, frames, names) -> np.ndarray:
    """(frames, names) evaluated shape-key values: what plays, all NLA layers composed."""
    blocks = obj.data.shape_keys.key_blocks
    out = []
    for frame in frames:
        scene.frame_set(frame)
        out.append([blocks[name].value for name in names])
    return np.array(out)


def demo_head(blender, name: str):
    blender.ops.avi_talking.add_demo_head()
    head = blender.context.scene.avi_talking.target
    head.name = name
    return head


def test_layers_add_up_to_the_single_action_and_mute_on_their_own(scene, blender, front_center_wav):
    settings = scene.avi_talking
    layered = demo_head(blender, "Layered")
    single = demo_head(blender, "Single")
    add_line(scene, front_center_wav, frame_start=11, dialogue="front center", instruction=HAPPY, name="layered")
    settings.target = layered
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    animation = layered.data.shape_keys.animation_data
    assert animation.action is None  # layers only: the animator's active Action slot stays free
    tracks = {track.name: track for track in animation.nla_tracks}
    assert list(tracks) == ["AVI rest", "AVI lips", "AVI expression", "AVI eyes", "AVI blinks"]  # bottom to top
    assert [s.blend_type for s in tracks["AVI rest"].strips] == ["REPLACE"]  # keys rest at 0 below the layers
    for name in ("AVI lips", "AVI expression", "AVI eyes", "AVI blinks"):
        (strip,) = tracks[name].strips
        assert strip.blend_type == "ADD" and strip.extrapolation == "NOTHING" and strip.frame_start == 11

    # The same recording as a second line, on the other face (one line animates one face).
    add_line(scene, front_center_wav, frame_start=11, dialogue="front center", instruction=HAPPY, name="single")
    settings.target, settings.use_layers = single, False
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    assert single.data.shape_keys.animation_data.action is not None
    names = ["jawOpen", "mouthSmileLeft", "cheekSquintLeft", "mouthClose", "eyeBlinkLeft", "browInnerUp"]
    frames = range(11, 11 + 36)
    together, alone = shape_values(scene, layered, frames, names), shape_values(scene, single, frames, names)
    np.testing.assert_allclose(together, alone, atol=1e-4)  # the layers add up to the take

    tracks["AVI expression"].mute = True
    lips_only = shape_values(scene, layered, frames, names)
    assert together[:, 1].max() > lips_only[:, 1].max() + 0.2  # the smile was the expression layer's
    np.testing.assert_allclose(lips_only[:, 0], together[:, 0], atol=0.35)  # the jaw still speaks
    assert lips_only[:, 0].max() > 0.2
    scene.frame_set(5)
    assert layered.data.shape_keys.key_blocks["jawOpen"].value == pytest.approx(0.0)  # no hold before the line


def test_expression_only_keeps_the_lips_layer_and_its_hand_edits(scene, blender, front_center_wav):
    head = demo_head(blender, "Face")
    add_line(scene, front_center_wav, frame_start=1, dialogue="front center", instruction=HAPPY)
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    tracks = {t.name: t for t in head.data.shape_keys.animation_data.nla_tracks}
    lips_action = tracks["AVI lips"].strips[0].action
    first_expression = tracks["AVI expression"].strips[0].action
    jaw = next(fc for fc in lips_action.fcurves if fc.data_path == 'key_blocks["jawOpen"].value') \
        if hasattr(lips_action, "fcurves") and lips_action.fcurves else None
    if jaw is None:  # Blender 4.4+: the F-curves live in the action's channelbag
        bag = lips_action.layers[0].strips[0].channelbag(lips_action.slots[0])
        jaw = next(fc for fc in bag.fcurves if fc.data_path == 'key_blocks["jawOpen"].value')
    jaw.keyframe_points[10].co.y = 0.93  # the animator's own fix on the lips
    jaw.update()
    brows_before = shape_values(scene, head, range(1, 30), ["browDownLeft"]).max()

    line_of(scene).instruction_text.clear()
    line_of(scene).instruction_text.write(ANGRY)
    assert blender.ops.avi_talking.generate(expression_only=True) == {"FINISHED"}
    tracks = {t.name: t for t in head.data.shape_keys.animation_data.nla_tracks}
    assert tracks["AVI lips"].strips[0].action == lips_action  # untouched, edit and all
    assert jaw.keyframe_points[10].co.y == pytest.approx(0.93)
    new_expression = tracks["AVI expression"].strips[0].action
    assert new_expression != first_expression and first_expression.use_fake_user  # the old one is kept
    assert shape_values(scene, head, range(1, 30), ["browDownLeft"]).max() > brows_before + 0.2


def test_head_and_eyes_only_rewrites_those_layers_and_keeps_the_rest(scene, blender, addon, front_center_wav):
    head = demo_head(blender, "Face")
    add_line(scene, front_center_wav, frame_start=1, dialogue="front center", instruction=HAPPY)
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    rig = addon("head_rig").find_head_rig(head)
    mover = rig.armature if rig.head_bone else head
    keys = {t.name: t.strips[0].action for t in head.data.shape_keys.animation_data.nla_tracks}
    first_head = mover.animation_data.nla_tracks["AVI head"].strips[0].action
    scene.frame_set(20)
    nod_before = addon("head_rig").played_head(rig)

    scene.avi_talking.head_motion = 2.0  # the animator wants more head
    assert blender.ops.avi_talking.generate(head_and_eyes_only=True) == {"FINISHED"}
    after = {t.name: t.strips[0].action for t in head.data.shape_keys.animation_data.nla_tracks}
    for layer in ("AVI lips", "AVI expression", "AVI blinks"):
        assert after[layer] == keys[layer], layer  # untouched
    assert after["AVI eyes"] != keys["AVI eyes"]
    new_head = mover.animation_data.nla_tracks["AVI head"].strips[0].action
    assert new_head != first_head and first_head.use_fake_user
    assert len(mover.animation_data.nla_tracks["AVI head"].strips) == 1  # replaced, not stacked
    scene.frame_set(20)
    assert np.abs(addon("head_rig").played_head(rig)).max() > np.abs(nod_before).max() * 1.3


def test_generate_all_keys_each_line_on_its_face_and_reports_the_refused_one(scene, blender, front_center_wav, tmp_path):
    import shutil

    settings = scene.avi_talking
    narrator = demo_head(blender, "Narrator")
    guest = demo_head(blender, "Guest")
    settings.target = narrator
    second = tmp_path / "second.wav"
    shutil.copy(front_center_wav, second)
    add_line(scene, front_center_wav, frame_start=1, dialogue="front center", name="one")
    add_line(scene, second, frame_start=60, dialogue="front center", name="two", instruction=HAPPY)
    blender.context.view_layer.objects.active = guest  # what an animator does: select, then click
    assert blender.ops.avi_talking.use_selected_as_line_face() == {"FINISHED"}
    assert line_of(scene).face == guest
    add_line(scene, front_center_wav, frame_start=120, dialogue="front center", name="three")
    prop = mesh_with_keys("Prop", [])
    blender.context.view_layer.objects.active = prop
    with pytest.raises(RuntimeError, match="Prop"):  # the button refuses a mesh that cannot be animated
        blender.ops.avi_talking.use_selected_as_line_face()
    line_of(scene).face = prop  # set anyway (the field takes any mesh): Generate All refuses it, the others run
    muted = add_line(scene, front_center_wav, frame_start=200, name="muted")
    muted.mute = True

    assert blender.ops.avi_talking.generate_all() == {"FINISHED"}
    report = settings.last_status
    assert report.startswith("2 of 3 lines keyed")
    assert "one: keyed" in report and "two: keyed" in report and "three: refused" in report
    assert "muted: skipped — 'muted' is muted" in report  # not animated, and said so

    def strips_of(face):
        animation = face.data.shape_keys.animation_data
        return sorted((s.name, s.frame_start) for t in animation.nla_tracks for s in t.strips if s.name != "rest")

    # Each face speaks its line and listens to the other's (its AVI listening track).
    assert strips_of(narrator) == [("one blinks", 1), ("one expression", 1), ("one eyes", 1), ("one lips", 1),
                                   ("two listening", 60)]
    assert strips_of(guest) == [("one listening", 1), ("two blinks", 60), ("two expression", 60), ("two eyes", 60),
                                ("two lips", 60)]
    # Regenerating one line later replaces only that line's strips.
    scene.sequence_editor.active_strip = scene.sequence_editor.strips_all["one"] \
        if hasattr(scene.sequence_editor, "strips_all") else scene.sequence_editor.sequences_all["one"]
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    assert strips_of(narrator) == [("one blinks", 1), ("one expression", 1), ("one eyes", 1), ("one lips", 1),
                                   ("two listening", 60)]


def test_cancel_during_generate_all_keeps_the_finished_line_and_skips_the_rest(scene, blender, addon,
                                                                              front_center_wav, long_speech_wav):
    settings = scene.avi_talking
    head = demo_head(blender, "Face")
    settings.target = head
    add_line(scene, front_center_wav, frame_start=1, dialogue="front center", name="short")
    add_line(scene, long_speech_wav, frame_start=100, name="long one")  # recognised: long enough to cancel
    add_line(scene, front_center_wav, frame_start=5000, dialogue="front center", name="after")
    scene.frame_end = 5100  # a strip outside the scene's range would not play, and is not animated
    jobs = addon("jobs")

    def cancel_once_the_first_line_is_done():
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            job = jobs.active()
            if getattr(job, "outcomes", None) and "long one" in job.stage:
                job.cancel()
                return
            time.sleep(0.05)

    watcher = threading.Thread(target=cancel_once_the_first_line_is_done)
    watcher.start()
    assert blender.ops.avi_talking.generate_all() == {"FINISHED"}
    watcher.join()
    report = settings.last_status
    assert report.startswith("1 of 3 lines keyed (cancelled")
    assert "short: keyed" in report and "long one: cancelled" in report and "after: cancelled" in report
    names = {s.name for t in head.data.shape_keys.animation_data.nla_tracks for s in t.strips}
    assert names == {"rest", "short lips", "short expression", "short eyes", "short blinks"}
