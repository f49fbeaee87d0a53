"""Several takes from one Generate: kept in the .blend, listed, and switched with Use Take (real server)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from model_server.synthesis.registry import DEFAULT_GUIDANCE, DEFAULT_SYNTHESIS, SYNTHESIZERS

from .helpers import add_sound_strip, generated_action, line_of

ANGRY = "A very angry person speaks with brow strongly lowered and lips fairly pressed."


@pytest.fixture
def angry_scene(scene, blender, front_center_wav):
    blender.ops.avi_talking.add_demo_head()
    add_sound_strip(scene, front_center_wav, frame_start=31, name="fc")
    settings = scene.avi_talking
    settings.dialogue = "front center"
    line = line_of(scene)
    line.instruction_text = blender.data.texts.new("AVI instruction")
    line.instruction_text.write(ANGRY)
    settings.seed, settings.synthesis = 5, "baseline"  # the baseline's takes differ in expression strength
    return scene


def key_values(scene, obj, name, frames):
    values = []
    for frame in frames:
        scene.frame_set(frame)
        values.append(obj.data.shape_keys.key_blocks[name].value)
    return np.array(values)


def take_texts(bpy):
    return sorted(t.name for t in bpy.data.texts if t.name.startswith("AVI_fc_take"))


def test_the_model_choice_defaults_to_the_servers_default(scene, addon):
    settings = scene.avi_talking
    assert settings.synthesis == DEFAULT_SYNTHESIS == addon("formats").DEFAULT_SYNTHESIS
    items = settings.bl_rna.properties["synthesis"].enum_items
    assert [item.identifier for item in items] == list(SYNTHESIZERS)
    assert (settings.samples, settings.guidance) == (1, DEFAULT_GUIDANCE) and addon("formats").DEFAULT_GUIDANCE == DEFAULT_GUIDANCE
    assert settings.bl_rna.properties["samples"].hard_max == 8


def test_two_takes_are_kept_and_use_take_switches_to_take_2(angry_scene, blender, tmp_path):
    bpy, scene = blender, angry_scene
    settings = scene.avi_talking
    settings.samples = 2
    head = settings.target
    assert bpy.ops.avi_talking.generate() == {"FINISHED"}
    first = generated_action(head.data.shape_keys)
    assert [(t.number, t.seed, t.strip, t.in_use) for t in settings.takes] == [(1, 5, "fc", True), (2, 6, "fc", False)]
    assert all(t.face == head for t in settings.takes) and take_texts(bpy) == ["AVI_fc_take1.json", "AVI_fc_take2.json"]
    assert "2 takes kept" in settings.last_status
    frames = range(31, 60)
    jaw_1, brow_1 = key_values(scene, head, "jawOpen", frames), key_values(scene, head, "browDownLeft", frames)

    bpy.ops.ed.undo_push(message="before Use Take")
    assert bpy.ops.avi_talking.use_take(index=1) == {"FINISHED"}
    second = generated_action(head.data.shape_keys)
    assert second != first and second.name.startswith("AVI_fc_take2")
    assert first.name in bpy.data.actions and first.use_fake_user  # the previous Action is kept
    assert [t.in_use for t in settings.takes] == [False, True]
    assert settings.last_status.startswith("take 2 (seed 6): keyed ")
    np.testing.assert_allclose(key_values(scene, head, "jawOpen", frames), jaw_1, atol=1e-6)  # same lips
    assert np.abs(key_values(scene, head, "browDownLeft", frames) - brow_1).max() > 1e-3  # another take

    first_name = first.name
    bpy.ops.ed.undo_push(message="AVI-Talking Use Take")  # what the UI records after an UNDO operator
    bpy.ops.ed.undo()  # one step back: take 1 again (undo rebuilt the data, so look everything up anew)
    settings = bpy.context.scene.avi_talking
    assert generated_action(settings.target.data.shape_keys).name == first_name
    assert [t.in_use for t in settings.takes] == [True, False]

    path = tmp_path / "takes.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    bpy.ops.wm.open_mainfile(filepath=str(path))
    kept = bpy.context.scene.avi_talking.takes
    assert [t.seed for t in kept] == [5, 6]
    assert json.loads(kept[1].curves_text.as_string())["model"]["take"] == {
        "index": 2, "seed": 6, "guidance": DEFAULT_GUIDANCE, "style": "sampled"}


def test_generating_again_replaces_the_strips_takes(angry_scene, blender):
    bpy, settings = blender, angry_scene.avi_talking
    settings.samples = 3
    assert bpy.ops.avi_talking.generate() == {"FINISHED"}
    assert [t.number for t in settings.takes] == [1, 2, 3] and len(take_texts(bpy)) == 3
    settings.samples = 2
    assert bpy.ops.avi_talking.generate() == {"FINISHED"}
    assert [t.number for t in settings.takes] == [1, 2]
    assert take_texts(bpy) == ["AVI_fc_take1.json", "AVI_fc_take2.json"]  # take 3's Text went with it
    settings.samples = 1
    assert bpy.ops.avi_talking.generate() == {"FINISHED"}
    assert len(settings.takes) == 0 and take_texts(bpy) == []


def test_use_take_refuses_a_take_whose_strip_is_gone(angry_scene, blender):
    bpy, scene = blender, angry_scene
    scene.avi_talking.samples = 2
    assert bpy.ops.avi_talking.generate() == {"FINISHED"}
    action = generated_action(scene.avi_talking.target.data.shape_keys)
    scene.sequence_editor.active_strip.name = "renamed"
    with pytest.raises(RuntimeError, match="sound strip 'fc' of take 2 was removed or renamed"):
        bpy.ops.avi_talking.use_take(index=1)
    assert generated_action(scene.avi_talking.target.data.shape_keys) == action
