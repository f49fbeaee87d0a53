"""Faces whose animation would be lost or cannot be written are refused before anything is written."""

from __future__ import annotations

import pytest

from .helpers import add_line, add_sound_strip, generated_action, line_of, mesh_with_keys
from model_server.arkit import ARKIT_NAMES


@pytest.fixture
def library_head(blender, tmp_path):
    """A .blend holding an ARKit head, as a rig library would."""
    blender.ops.wm.read_homefile(use_empty=True)
    mesh_with_keys("LibHead", ARKIT_NAMES)
    path = tmp_path / "rig_library.blend"
    blender.ops.wm.save_as_mainfile(filepath=str(path))
    return path


def link_head(blender, path):
    blender.ops.wm.read_homefile(use_empty=True)
    scene = blender.context.scene
    scene.render.fps, scene.render.fps_base = 25, 1.0
    with blender.data.libraries.load(str(path), link=True) as (_, into):
        into.objects = ["LibHead"]
    head = into.objects[0]
    scene.collection.objects.link(head)
    return scene, head


def prepared(blender, scene, head, front_center_wav):
    add_line(scene, front_center_wav, frame_start=1, dialogue="front center")
    scene.avi_talking.target = head


@pytest.mark.parametrize("override_object", [False, True])
def test_a_linked_head_is_refused_with_what_to_do(blender, library_head, front_center_wav, override_object):
    scene, head = link_head(blender, library_head)
    if override_object:  # an object-only override still leaves the mesh and its shape keys in the library
        head = head.override_create()
        scene.collection.objects.link(head)
    prepared(blender, scene, head, front_center_wav)
    actions = len(blender.data.actions)
    with pytest.raises(RuntimeError, match="linked from rig_library.blend.*library override"):
        blender.ops.avi_talking.generate()
    assert len(blender.data.actions) == actions  # nothing written, nothing orphaned
    assert "refused" in scene.avi_talking.last_status


def test_nla_tweak_mode_is_refused_and_leaves_no_action_behind(scene, blender, front_center_wav):
    head = mesh_with_keys("Head", ARKIT_NAMES)
    key = head.data.shape_keys
    hand = blender.data.actions.new("hand blink")
    key.animation_data_create()
    track = key.animation_data.nla_tracks.new()
    track.strips.new("blink", 1, hand)
    key.animation_data.use_tweak_mode = True
    assert key.animation_data.use_tweak_mode
    prepared(blender, scene, head, front_center_wav)
    actions = len(blender.data.actions)
    with pytest.raises(RuntimeError, match="NLA tweak mode"):
        blender.ops.avi_talking.generate()
    assert len(blender.data.actions) == actions
    assert [a for a in blender.data.actions if a.users == 0] == []


def test_each_strip_keeps_its_own_dialogue_instruction_and_segments_through_save_and_reopen(
        scene, blender, addon, front_center_wav, asterisk_recording, tmp_path):
    blender.ops.avi_talking.add_demo_head()
    other, other_text = asterisk_recording("agent-pass")
    add_sound_strip(scene, front_center_wav, frame_start=1, name="line A")
    scene.avi_talking.dialogue = "front center"
    assert blender.ops.avi_talking.analyze() == {"FINISHED"}
    written_for_a = line_of(scene).instruction_text.as_string()
    add_sound_strip(scene, other, frame_start=100, name="line B")  # now the active strip
    assert scene.avi_talking.dialogue == ""  # B has no dialogue of its own yet: A's is not shown
    # Nor A's instruction: Generate would let the agent write B's own.
    assert addon("operators.generate").edited_instructions(scene.avi_talking, "line B") == (None, None)
    scene.avi_talking.dialogue = other_text
    b_text = blender.data.texts.new("B's instruction")
    b_text.write("A very happy person speaks with lip corners strongly pulled up.")
    line_of(scene).instruction_text = b_text
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    action = generated_action(scene.avi_talking.target.data.shape_keys)
    assert action.name.startswith("AVI_line B")
    path = tmp_path / "two_lines.blend"
    blender.ops.wm.save_as_mainfile(filepath=str(path))
    blender.ops.wm.open_mainfile(filepath=str(path))
    scene = blender.context.scene
    lines = {line.strip: line for line in scene.avi_talking.lines}
    assert lines["line A"].dialogue == "front center" and lines["line B"].dialogue == other_text
    assert lines["line A"].instruction_text.as_string() == written_for_a and lines["line A"].analyzed
    assert lines["line A"].segments and not lines["line B"].segments
    assert lines["line B"].instruction_text.as_string().startswith("A very happy person")
    scene.sequence_editor.active_strip = scene.sequence_editor.strips_all["line A"]
    assert scene.avi_talking.dialogue == "front center"
