"""Only what Blender plays is animated: a strip on a muted channel, inside a muted meta strip or cut off by
a meta strip's trim is skipped or cut the same way, and the report says so (real bpy, real server)."""

from __future__ import annotations

import numpy as np
import pytest

from .helpers import add_line, require_audio
from .test_scene_batch import demo_head, shape_values


def strip_collection(holder):
    return holder.strips if hasattr(holder, "strips") else holder.sequences


def in_meta(scene, wav, *, meta_name: str = "Scene 12", frame_start: int = 1):
    """A meta strip holding one sound strip (as Blender's Make Meta leaves it), that strip made active."""
    require_audio()
    editor = scene.sequence_editor or scene.sequence_editor_create()
    if not hasattr(strip_collection(editor), "new_meta"):
        pytest.skip(f"bpy {scene.sequence_editor} has no new_meta")
    meta = strip_collection(editor).new_meta(name=meta_name, channel=3, frame_start=frame_start)
    inner = strip_collection(meta).new_sound(name="inside", filepath=str(wav), channel=1, frame_start=frame_start)
    editor.active_strip = inner
    return meta, inner


def test_a_muted_alternate_take_is_skipped_and_the_mouth_is_not_doubled(scene, blender, front_center_wav):
    head = demo_head(blender, "Face")
    add_line(scene, front_center_wav, frame_start=1, dialogue="front center", name="main")
    alternate = add_line(scene, front_center_wav, frame_start=1, dialogue="front center", name="alternate")
    alternate.channel = 2
    scene.sequence_editor.channels[2].mute = True  # the alternate take, under the main one, silenced
    assert blender.ops.avi_talking.generate_all() == {"FINISHED"}
    report = scene.avi_talking.last_status
    assert report.startswith("1 of 1 lines keyed; 1 not played")
    assert "alternate: skipped — 'alternate' is on channel 2, which is muted" in report
    one = shape_values(scene, head, range(1, 37), ["jawOpen"])[:, 0].max()
    assert 0.3 < one < 0.9  # one mouth, not two added up to the clamp
    scene.sequence_editor.active_strip = alternate
    with pytest.raises(RuntimeError, match="channel 2, which is muted"):
        blender.ops.avi_talking.generate()


def test_a_strip_in_a_muted_meta_is_skipped(scene, blender, front_center_wav):
    demo_head(blender, "Face")
    meta, inner = in_meta(scene, front_center_wav)
    add_line(scene, front_center_wav, frame_start=60, dialogue="front center", name="plays")
    meta.mute = True
    assert blender.ops.avi_talking.generate_all() == {"FINISHED"}
    assert "inside: skipped — the meta strip 'Scene 12' around 'inside' is muted" in scene.avi_talking.last_status


def test_a_meta_trimmed_shorter_than_its_content_cuts_the_keys(scene, blender, front_center_wav):
    head = demo_head(blender, "Face")
    meta, inner = in_meta(scene, front_center_wav)
    meta.frame_final_end = 20  # the line goes on to frame 36; the meta plays it to frame 19
    scene.sequence_editor.active_strip = inner
    scene.avi_talking.dialogue = "front center"
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    values = shape_values(scene, head, range(1, 40), ["jawOpen", "mouthClose"])
    assert np.abs(values[:19]).max() > 0.1  # it speaks while the meta plays …
    assert np.abs(values[20:]).max() < 1e-6  # … and not a frame after


def test_packed_audio_is_animated_from_what_blender_plays(scene, blender, front_center_wav, tmp_path):
    import shutil

    import soundfile

    head = demo_head(blender, "Face")
    local = tmp_path / "line.wav"
    shutil.copy(front_center_wav, local)
    strip = add_line(scene, local, frame_start=1, dialogue="front center")
    strip.sound.pack()  # the hand-off step: the sound travels inside the .blend
    audio, rate = soundfile.read(str(local))
    soundfile.write(str(local), np.zeros_like(audio), rate)  # the file on disk changed since: silence
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    assert shape_values(scene, head, range(1, 37), ["jawOpen"]).max() > 0.3  # the packed speech, not the silence
    local.unlink()  # and with no file on disk at all
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    assert shape_values(scene, head, range(1, 37), ["jawOpen"]).max() > 0.3


def test_an_m4a_strip_is_animated_in_sync(scene, blender, front_center_wav, tmp_path):
    from tests.model_server.audio.test_loading import m4a_of

    head = demo_head(blender, "Face")
    add_line(scene, m4a_of(front_center_wav, tmp_path / "line.m4a"), frame_start=1, dialogue="front center")
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    m4a = shape_values(scene, head, range(1, 37), ["jawOpen"])[:, 0]
    other = demo_head(blender, "Reference")
    scene.avi_talking.target = other
    add_line(scene, front_center_wav, frame_start=1, dialogue="front center", name="wav")
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    wav = shape_values(scene, other, range(1, 37), ["jawOpen"])[:, 0]
    assert m4a.max() > 0.3 and np.corrcoef(m4a, wav)[0, 1] > 0.9  # the same lips, on the same frames


def test_a_face_in_a_shot_scene_is_keyed_on_the_shots_frames(scene, blender, addon, front_center_wav):
    """The edit scene holds the dialogue and shows the shot through a scene strip starting at frame 90; the
    shot starts at its frame 1. A line at edit frame 101 plays shot frame 12: the keys go there."""
    head = demo_head(blender, "Face")
    shot = blender.data.scenes.new("Shot")
    shot.render.fps, shot.render.fps_base = scene.render.fps, scene.render.fps_base
    shot.frame_start, shot.frame_end = 1, 200
    shot.collection.objects.link(head)
    scene.collection.objects.unlink(head)
    editor = scene.sequence_editor_create()
    shown = strip_collection(editor).new_scene(name="shot 1", scene=shot, channel=3, frame_start=90)
    add_line(scene, front_center_wav, frame_start=101, dialogue="front center")
    scene.avi_talking.target = head
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    assert "in the scene 'Shot' from its frame 12" in scene.avi_talking.last_status
    tracks = head.data.shape_keys.animation_data.nla_tracks
    (lips,) = tracks["AVI lips"].strips
    assert (lips.frame_start, lips.frame_end) == (12, 47)  # frames 12–47 of the shot
    jaw = next(fc for fc in addon("nla_layers").fcurves_of(lips.action, getattr(lips, "action_slot", None))
               if fc.data_path == 'key_blocks["jawOpen"].value')
    assert jaw.keyframe_points[0].co.x == 12 and max(jaw.evaluate(f) for f in range(12, 48)) > 0.3

    shown.mute = True  # nothing shows the face while the line plays: refused, with what to do
    with pytest.raises(RuntimeError, match="no scene strip shows it"):
        blender.ops.avi_talking.generate()
