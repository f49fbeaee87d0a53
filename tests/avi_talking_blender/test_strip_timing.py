"""Keys follow what a sound strip plays: its trimmed middle only, moved by its sound offset, heard in the mixdown."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from .helpers import add_line, generated_fcurves

# "Please enter your password followed by the pound key." (5.5 s, a professional female voice)
LINE = "agent-pass"


@pytest.fixture
def line_scene(scene, blender, asterisk_recording):
    blender.ops.avi_talking.add_demo_head()
    path, _ = asterisk_recording(LINE)
    return scene, path


def jaw_keys(scene) -> tuple[np.ndarray, np.ndarray]:
    """(frames, values) of the jawOpen keys of the face's generated lips."""
    curve = generated_fcurves(scene.avi_talking.target.data.shape_keys).find('key_blocks["jawOpen"].value')
    co = np.zeros(2 * len(curve.keyframe_points))
    curve.keyframe_points.foreach_get("co", co)
    return co[0::2], co[1::2]


def mixdown_onset_frame(blender, scene, tmp_path, threshold: float = 0.05) -> float:
    """Scene frame where the mixed-down scene audio first gets loud: what the audience hears."""
    out = tmp_path / "mix.wav"
    blender.ops.sound.mixdown(filepath=str(out), container="WAV", codec="PCM", format="S16", mixrate=16000)
    samples, rate = soundfile.read(str(out))
    samples = samples.mean(axis=1) if samples.ndim == 2 else samples
    return scene.frame_start + np.argmax(np.abs(samples) > threshold) / rate * scene.render.fps


def test_a_trimmed_strip_is_keyed_only_where_it_plays(line_scene, blender):
    scene, path = line_scene
    strip = add_line(scene, path, frame_start=1)
    strip.frame_offset_start, strip.frame_offset_end = 40, 30  # only the middle plays: frames 41 … 108
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    frames, values = jaw_keys(scene)
    assert frames[0] == strip.frame_final_start == 41
    assert frames[-1] < strip.frame_final_end
    assert values.max() > 0.2  # the words of the middle move the jaw


def test_a_strip_slid_before_the_scene_start_is_keyed_from_its_first_heard_frame(line_scene, blender):
    scene, path = line_scene
    strip = add_line(scene, path, frame_start=1)
    strip.frame_offset_start = 60
    strip.frame_start = -59  # the audible part starts at frame 1
    assert strip.frame_final_start == 1
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    frames, _ = jaw_keys(scene)
    assert frames.min() == 1.0


def test_sound_offset_moves_the_keys_with_the_sound(line_scene, blender, tmp_path):
    scene, path = line_scene
    scene.frame_start, scene.frame_end = 1, 250
    strip = add_line(scene, path, frame_start=11)
    scene.avi_talking.dialogue = "Please enter your password followed by the pound key."
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    plain_frames, plain = jaw_keys(scene)
    plain_onset = mixdown_onset_frame(blender, scene, tmp_path)
    strip.frame_final_end += 25  # room for the whole line once it plays a second later
    strip.sound_offset = 1.0
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    frames, shifted = jaw_keys(scene)
    onset = mixdown_onset_frame(blender, scene, tmp_path)
    assert onset - plain_onset == pytest.approx(25, abs=0.5)  # Blender plays the file a second later
    assert frames[0] == plain_frames[0] + 25
    assert len(frames) == len(plain_frames)
    np.testing.assert_allclose(shifted, plain, atol=1e-6)  # the same motion, a second later
    # The mouth opens with the first word the audience hears, not before it.
    first_open = frames[np.argmax(shifted > 0.15)]
    assert onset - 1 <= first_open <= onset + 6


def test_a_refused_generate_replaces_the_last_result_with_its_reason(line_scene, blender):
    scene, path = line_scene
    add_line(scene, path, frame_start=1)
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    assert scene.avi_talking.last_status.startswith("keyed")
    scene.avi_talking.target = None  # no face chosen: refused before anything is sent
    with pytest.raises(RuntimeError):
        blender.ops.avi_talking.generate()
    assert scene.avi_talking.last_status.startswith("Generate refused:")


def test_the_strip_is_read_without_properties_that_go_in_blender_6(line_scene, addon):
    # Blender 5.1 deprecates frame_start and frame_final_start/end for content_start and left/right_handle.
    import warnings

    scene, path = line_scene
    strip = add_line(scene, path, frame_start=11)
    sequencer = addon("sequencer")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clip = sequencer.sound_clip(scene, strip)
        ordered = sequencer.sound_strips(scene)
    assert [str(w.message) for w in caught if "Blender 6" in str(w.message)] == []
    assert (clip.start_frame, clip.end_frame) == (11, sequencer.right_handle(strip)) and ordered == [strip]
    assert sequencer.left_handle(strip) == 11 < sequencer.right_handle(strip)
