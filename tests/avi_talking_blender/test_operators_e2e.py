"""Analyze → edit → Generate → Export through bpy.ops, with the add-on starting the real server."""

from __future__ import annotations

import json
import math
import struct
import time

import numpy as np
import pytest
import soundfile

from .helpers import add_sound_strip, flame_addon_rig, generated_action, line_of, preferences_set

DIALOGUE = "front center"


@pytest.fixture
def demo_scene(scene, blender, front_center_wav):
    blender.ops.avi_talking.add_demo_head()
    add_sound_strip(scene, front_center_wav, frame_start=31, name="fc")
    scene.avi_talking.dialogue = DIALOGUE
    return scene


def jaw_curve(scene, obj, frames):
    values = []
    for frame in frames:
        scene.frame_set(frame)
        values.append(obj.data.shape_keys.key_blocks["jawOpen"].value)
    return np.array(values)


def test_analyze_writes_an_editable_instruction_and_segments(demo_scene, blender):
    assert blender.ops.avi_talking.analyze() == {"FINISHED"}
    line = line_of(demo_scene)
    text = line.instruction_text.as_string()
    assert "person speaks with" in text
    assert len(line.segments) >= 1 and line.strip == "fc" and line.analyzed
    assert line.segments[0].start == 0.0


def test_without_dialogue_the_heard_words_fill_the_dialogue_field_for_correction(demo_scene, blender):
    settings = demo_scene.avi_talking
    settings.dialogue = ""
    assert blender.ops.avi_talking.analyze() == {"FINISHED"}
    assert settings.dialogue.strip(".").lower() == "front center"
    assert line_of(demo_scene).dialogue_recognized and "heard" in settings.last_status
    settings.dialogue = "front centre"  # the animator corrects a word: the text is theirs now
    assert not line_of(demo_scene).dialogue_recognized
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    assert settings.dialogue == "front centre" and "heard" not in settings.last_status


def test_a_dialogue_text_that_is_not_what_is_said_is_reported_and_kept_for_correction(scene, blender, repo_root):
    """Another line's text pasted by mistake: forced alignment could place it, but it covers little of the
    speech, so the words heard animate the line and the report says so; the animator's text stays."""
    blender.ops.avi_talking.add_demo_head()
    add_sound_strip(scene, repo_root / "assets" / "demo_speech.wav", frame_start=1, name="demo")
    settings = scene.avi_talking
    settings.dialogue = wrong = "Please enter your password followed by the pound key"
    assert blender.ops.avi_talking.analyze() == {"FINISHED"}
    assert "does not fit the audio" in settings.last_status and "harbo" in settings.last_status.lower()
    assert settings.dialogue == wrong and not line_of(scene).dialogue_recognized


def test_generate_keys_the_whole_line_from_the_strip_start_and_undo_removes_it(demo_scene, blender, front_center_wav):
    bpy = blender
    head = demo_scene.avi_talking.target
    head_name = head.name
    bpy.ops.ed.undo_push(message="before generate")
    assert bpy.ops.avi_talking.generate() == {"FINISHED"}
    action = generated_action(head.data.shape_keys)
    assert action.name.startswith("AVI_fc")
    frames = math.ceil(soundfile.info(str(front_center_wav)).duration * 25 - 1e-6)
    jaw = jaw_curve(demo_scene, head, range(31, 31 + frames))
    assert jaw.max() > 0.2  # the mouth opens on "front" and "center"
    assert jaw_curve(demo_scene, head, [25])[0] == pytest.approx(0.0, abs=1e-6)  # at rest before the strip
    # In the UI Blender records the step itself when an UNDO operator finishes; bpy.ops in background
    # mode does not, so the test records it as the UI would, then steps back once.
    bpy.ops.ed.undo_push(message="AVI-Talking Generate")
    bpy.ops.ed.undo()
    head = bpy.data.objects[head_name]  # undo rebuilt the data: old references are gone
    animation = head.data.shape_keys.animation_data
    assert animation is None or (animation.action is None and not animation.nla_tracks)


def test_edited_instruction_changes_the_face_but_not_the_lips(demo_scene, blender):
    bpy = blender
    settings = demo_scene.avi_talking
    head = settings.target
    bpy.ops.avi_talking.analyze()
    settings.use_segments = False
    results = {}
    for mood in ("A very angry person speaks with brow strongly lowered.",
                 "A very happy person speaks with lip corners strongly pulled up."):
        line_of(demo_scene).instruction_text.clear()
        line_of(demo_scene).instruction_text.write(mood)
        assert bpy.ops.avi_talking.generate() == {"FINISHED"}
        keys = head.data.shape_keys.key_blocks
        rows = []
        for frame in range(31, 60):
            demo_scene.frame_set(frame)
            rows.append([keys["jawOpen"].value, keys["browDownLeft"].value, keys["mouthSmileLeft"].value])
        results[mood.split()[2]] = np.array(rows)
    angry, happy = results["angry"], results["happy"]
    assert angry[:, 1].mean() > happy[:, 1].mean() + 0.3
    assert happy[:, 2].mean() > angry[:, 2].mean() + 0.3
    assert np.corrcoef(angry[:, 0], happy[:, 0])[0, 1] > 0.9


def test_dead_remote_server_reports_and_changes_nothing(demo_scene, blender):
    bpy = blender
    prefs = bpy.context.preferences.addons["bl_ext.user_default.avi_talking_blender"].preferences
    prefs.server_mode, prefs.remote_url = "REMOTE", "http://127.0.0.1:9"
    actions_before = len(bpy.data.actions)
    try:
        with pytest.raises(RuntimeError, match="not reachable"):
            bpy.ops.avi_talking.generate()
    finally:
        prefs.server_mode = "LOCAL"
    assert len(bpy.data.actions) == actions_before
    assert demo_scene.avi_talking.target.data.shape_keys.animation_data is None


def test_silent_audio_is_refused_with_the_servers_message(scene, blender, tmp_path):
    bpy = blender
    silent = tmp_path / "silence.wav"
    soundfile.write(silent, np.zeros(16000), 16000)
    bpy.ops.avi_talking.add_demo_head()
    add_sound_strip(scene, silent, frame_start=1)
    with pytest.raises(RuntimeError, match="silent"):
        bpy.ops.avi_talking.generate()
    assert scene.avi_talking.target.data.shape_keys.animation_data is None


def test_flame_rig_is_retargeted_from_its_own_shape_keys(scene, blender, front_center_wav):
    bpy = blender
    head = flame_addon_rig(scene)
    scene.avi_talking.target = head
    add_sound_strip(scene, front_center_wav, frame_start=1)
    scene.avi_talking.dialogue = DIALOGUE
    assert bpy.ops.avi_talking.generate() == {"FINISHED"}
    keys = head.data.shape_keys.key_blocks
    expression = []
    for frame in range(1, 35):
        scene.frame_set(frame)
        expression.append([keys[f"Exp{k}"].value for k in range(1, 51)])
    assert np.abs(np.array(expression)).max() > 0.05  # the fitted retarget drives FLAME's expression space
    jaw = generated_action(head.parent)
    assert jaw is not None and jaw.name == "AVI_line lips jaw"
    layered = jaw_rotations(scene, head.parent, range(1, 35))
    for id_data in (head.parent, head.data.shape_keys):  # the same line as one Action, for comparison
        for track in list(id_data.animation_data.nla_tracks):
            id_data.animation_data.nla_tracks.remove(track)
    scene.avi_talking.use_layers = False
    assert bpy.ops.avi_talking.generate() == {"FINISHED"}
    single = jaw_rotations(scene, head.parent, range(1, 35))
    assert np.abs(single).max() > 0.02  # the jaw turns
    np.testing.assert_allclose(layered, single, atol=1e-4)  # the jaw layers add up to the whole rotation


def jaw_rotations(scene, armature, frames) -> np.ndarray:
    out = []
    for frame in frames:
        scene.frame_set(frame)
        out.append(list(armature.pose.bones["jaw"].rotation_euler))
    return np.array(out)


def read_glb(path):
    data = path.read_bytes()
    magic, _, _ = struct.unpack_from("<III", data, 0)
    assert magic == 0x46546C67  # "glTF"
    length, kind = struct.unpack_from("<II", data, 12)
    assert kind == 0x4E4F534A  # JSON chunk
    return json.loads(data[20:20 + length])


def test_export_round_trip(demo_scene, blender, tmp_path, front_center_wav):
    bpy = blender
    assert bpy.ops.avi_talking.generate() == {"FINISHED"}
    frames = math.ceil(soundfile.info(str(front_center_wav)).duration * 25 - 1e-6)
    assert bpy.ops.avi_talking.export_animation(filepath=str(tmp_path / "face.glb"), format="GLB") == {"FINISHED"}
    assert bpy.ops.avi_talking.export_animation(filepath=str(tmp_path / "face.fbx"), format="FBX") == {"FINISHED"}
    gltf = read_glb(tmp_path / "face.glb")
    channels = [c for a in gltf["animations"] for c in a["channels"] if c["target"]["path"] == "weights"]
    assert channels, "no morph-target weights animation in the glb"
    animation = gltf["animations"][0]
    sampler = animation["samplers"][channels[0]["sampler"]]
    times = gltf["accessors"][sampler["input"]]
    assert times["count"] >= frames
    assert times["max"][0] - times["min"][0] == pytest.approx((frames - 1) / 25, abs=0.05)
    mesh = gltf["meshes"][0]
    assert len(mesh["primitives"][0]["targets"]) == 52
    assert (tmp_path / "face.fbx").stat().st_size > 100_000
    assert b"jawOpen" in (tmp_path / "face.fbx").read_bytes()


def test_add_flame_head_from_a_flame_file_then_animate_it(scene, blender, front_center_wav, tmp_path):
    from flame_fixtures import write_npz

    bpy = blender
    prefs = bpy.context.preferences.addons["bl_ext.user_default.avi_talking_blender"].preferences
    prefs.flame_model_path = str(write_npz(tmp_path / "flame.npz"))
    try:
        assert bpy.ops.avi_talking.add_flame_head() == {"FINISHED"}
        head = scene.avi_talking.target
        names = [k.name for k in head.data.shape_keys.key_blocks]
        assert names[1:51] == [f"Exp{k}" for k in range(1, 51)] and "FLAME_jaw" in names
        add_sound_strip(scene, front_center_wav, frame_start=1)
        scene.avi_talking.dialogue = DIALOGUE
        assert bpy.ops.avi_talking.generate() == {"FINISHED"}
    finally:
        prefs.flame_model_path = ""
    keys = head.data.shape_keys.key_blocks
    jaw, expression = [], []
    for frame in range(1, 35):
        scene.frame_set(frame)
        jaw.append(keys["FLAME_jaw"].value)
        expression.append(max(abs(keys[f"Exp{k}"].value) for k in range(1, 51)))
    assert max(jaw) > 0.2 and max(expression) > 0.05


def test_the_ui_path_applies_the_result_on_the_main_thread(demo_scene, blender, addon):
    """What the modal timer does: start the job, call apply_finished_job until it returns the job."""
    bpy, jobs = blender, addon("jobs")
    head = demo_scene.avi_talking.target
    job = jobs.start(addon("operators.generate").animate_job(bpy.context))
    while (done := jobs.apply_finished_job(bpy.context)) is None:
        assert head.data.shape_keys.animation_data is None  # the worker never writes to the scene
        assert bpy.context.window_manager.avi_talking_job.state == "running"
        time.sleep(0.05)
    assert done is job and job.state == "succeeded", job.error
    assert generated_action(head.data.shape_keys).name.startswith("AVI_fc")
    assert demo_scene.avi_talking.last_status.startswith("keyed ")
    status = bpy.context.window_manager.avi_talking_job
    assert (status.state, status.progress) == ("succeeded", 1.0)


def test_cancel_stops_the_server_job_and_changes_nothing(scene, blender, addon, long_speech_wav):
    bpy, jobs = blender, addon("jobs")
    bpy.ops.avi_talking.add_demo_head()
    add_sound_strip(scene, long_speech_wav, frame_start=1, name="long")
    job = jobs.start(addon("operators.generate").animate_job(bpy.context))
    deadline = time.monotonic() + 120
    while job.stage in ("waiting", "starting model server…", "sending request") and time.monotonic() < deadline:
        time.sleep(0.02)  # until the server reports its own stage: the job is running there
    assert not job.finished, "a two-minute clip should still be in progress"
    bpy.ops.avi_talking.cancel()
    jobs.wait(job)
    assert jobs.apply_finished_job(bpy.context) is job and job.state == "cancelled"
    assert scene.avi_talking.target.data.shape_keys.animation_data is None
    assert scene.avi_talking.last_status == "generate cancelled, nothing was changed"


def test_a_face_removed_while_generating_is_reported(demo_scene, blender, addon):
    bpy, jobs = blender, addon("jobs")
    job = jobs.start(addon("operators.generate").animate_job(bpy.context))
    bpy.data.objects.remove(demo_scene.avi_talking.target)
    actions_before = len(bpy.data.actions)
    jobs.wait(job)
    assert jobs.apply_finished_job(bpy.context) is job
    assert job.state == "failed" and "was removed while its animation was generated" in job.error
    assert len(bpy.data.actions) == actions_before



def test_instructions_from_a_local_llm_server_chosen_in_the_preferences(demo_scene, blender):
    from tests.model_server.agent.test_endpoint_agent import ChatServer

    bpy = blender
    prefs = bpy.context.preferences.addons["bl_ext.user_default.avi_talking_blender"].preferences
    with ChatServer() as chat, preferences_set(prefs, agent="endpoint", agent_url=chat.url, agent_model="local"):
        assert bpy.ops.avi_talking.analyze() == {"FINISHED"}  # restarts the model process with the new agent
    line = line_of(demo_scene)
    assert line.instruction_text.as_string().startswith("A fairly sad person speaks with")
    assert all(s.instruction.startswith("A fairly sad person") for s in line.segments)
    assert chat.requests and chat.requests[0]["model"] == "local"
    asked = len(chat.requests)
    with preferences_set(prefs, agent="baseline"):
        assert bpy.ops.avi_talking.analyze() == {"FINISHED"}  # the built-in rules, named though not the default
    assert not line.instruction_text.as_string().startswith("A fairly sad person")
    assert len(chat.requests) == asked


def test_instructions_from_the_learned_agent_chosen_in_the_preferences(demo_scene, blender, tiny_agent_files):
    from model_server.agent.grammar import is_grammatical

    tiny_agent_dir, tiny_lm_dir = tiny_agent_files
    bpy = blender
    prefs = bpy.context.preferences.addons["bl_ext.user_default.avi_talking_blender"].preferences
    line = line_of(demo_scene)
    with preferences_set(prefs, agent="learned", agent_weights_path=str(tiny_agent_dir / "missing"),
                         agent_lm_path=str(tiny_lm_dir)):
        with pytest.raises(RuntimeError, match="train_agent"):  # no adapter there: said so, nothing written
            bpy.ops.avi_talking.analyze()
        assert not line.segments
        prefs.agent_weights_path = str(tiny_agent_dir)
        assert bpy.ops.avi_talking.analyze() == {"FINISHED"}
    assert is_grammatical(line.instruction_text.as_string().strip())
    assert line.segments and all(is_grammatical(s.instruction) for s in line.segments)


def test_a_french_line_is_timed_with_french_phonemes(scene, blender, asterisk_recording):
    path, text = asterisk_recording("agent-pass", "fr")  # "Composez votre mot de passe suivi du dièse."
    blender.ops.avi_talking.add_demo_head()
    add_sound_strip(scene, path, frame_start=1, name="fr")
    settings = scene.avi_talking
    assert settings.language == "auto"
    settings.dialogue, settings.language = text, "fr"
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    assert "language fr (phonemes from espeak-ng)" in settings.last_status
    head = settings.target
    frames = math.ceil(soundfile.info(str(path)).duration * 25 - 1e-6)
    jaw = jaw_curve(scene, head, range(1, 1 + frames))
    assert jaw.max() > 0.2 and jaw.min() < 0.05  # it opens on the vowels and closes for "mot", "passe"
