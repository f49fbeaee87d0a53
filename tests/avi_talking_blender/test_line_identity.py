"""A line stays with its sound strip through renames, copies and save/reopen; a line animates one face with
one result, in real Blender with the real model process."""

from __future__ import annotations

import numpy as np

from .helpers import add_line, line_of
from .test_scene_batch import ANGRY, HAPPY, demo_head, shape_values


def strips(scene):
    editor = scene.sequence_editor
    return editor.strips_all if hasattr(editor, "strips_all") else editor.sequences_all


def layer_strips(face) -> list[str]:
    animation = face.data.shape_keys.animation_data
    return sorted(s.name for t in animation.nla_tracks for s in t.strips if t.name != "AVI rest") \
        if animation is not None else []


def set_instruction(line, text: str) -> None:
    line.instruction_text.clear()
    line.instruction_text.write(text)


def test_a_renamed_strip_keeps_its_line_and_regenerating_replaces_its_layers(scene, blender, front_center_wav,
                                                                              tmp_path):
    head = demo_head(blender, "Face")
    strip = add_line(scene, front_center_wav, frame_start=1, dialogue="front center", instruction=HAPPY)
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    jaw_once = shape_values(scene, head, range(1, 37), ["jawOpen"]).max()
    set_instruction(line_of(scene), ANGRY)  # the animator's edit …
    strip.name = "Ada_take3"  # … and a rename in the sequencer
    assert scene.avi_talking.dialogue == "front center"  # the panel still shows the line's words
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    assert "'line' was renamed 'Ada_take3': its line went with it" in scene.avi_talking.last_status
    brows = shape_values(scene, head, range(1, 37), ["browDownLeft"]).max()
    assert brows > 0.2  # the edited (angry) instruction was used
    jaw_twice = shape_values(scene, head, range(1, 37), ["jawOpen"]).max()
    assert abs(jaw_twice - jaw_once) < 0.1  # replaced, not stacked on the old layers
    assert layer_strips(head) == ["Ada_take3 blinks", "Ada_take3 expression", "Ada_take3 eyes", "Ada_take3 lips"]

    path = tmp_path / "renamed.blend"
    blender.ops.wm.save_as_mainfile(filepath=str(path))
    blender.ops.wm.open_mainfile(filepath=str(path))
    scene = blender.context.scene
    strips(scene)["Ada_take3"].name = "Ada_final"
    assert line_of(scene).dialogue == "front center"
    assert ANGRY in line_of(scene).instruction_text.as_string()


def test_a_copied_strip_gets_its_own_line_and_leaves_the_original_alone(scene, blender, front_center_wav):
    ada, ben = demo_head(blender, "Ada"), demo_head(blender, "Ben")
    scene.avi_talking.target = ada
    original = add_line(scene, front_center_wav, frame_start=1, dialogue="front center", instruction=HAPPY,
                        name="ada")
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    editor = scene.sequence_editor
    copy = (editor.strips if hasattr(editor, "strips") else editor.sequences).new_sound(
        name="ada", filepath=str(front_center_wav), channel=2, frame_start=60)  # Blender names it "ada.001"
    for key, value in original.items():
        copy[key] = value  # what Shift+D copies: the strip's custom properties
    assert copy.name != original.name
    editor.active_strip = copy
    blender.context.view_layer.objects.active = ben
    assert blender.ops.avi_talking.use_selected_as_line_face() == {"FINISHED"}
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    lines = {line.strip: line for line in scene.avi_talking.lines}
    assert lines["ada"].face != lines[copy.name].face == ben
    assert lines["ada"].line_id != lines[copy.name].line_id
    assert HAPPY in lines[copy.name].instruction_text.as_string()  # the copy starts with the same words
    assert lines[copy.name].instruction_text != lines["ada"].instruction_text  # but its own Text to edit
    assert layer_strips(ada) == ["ada blinks", "ada expression", "ada eyes", "ada lips"]  # Ada still speaks
    assert f"{copy.name} lips" in layer_strips(ben)


def test_a_file_from_before_line_ids_is_taken_over(scene, blender, addon, front_center_wav, tmp_path):
    """Lines matched by name, Actions tagged with the strip's name, and the scene-level dialogue and
    instruction of the version before per-strip lines: all become the strip's line."""
    head = demo_head(blender, "Face")
    strip = add_line(scene, front_center_wav, frame_start=1, dialogue="front center", instruction=HAPPY,
                     name="old")
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    settings = scene.avi_talking
    line = line_of(scene)
    old_id = line.line_id
    for action in blender.data.actions:  # as the previous version wrote them
        if action.get("avi_line") == old_id:
            action["avi_line"] = "old"
    del strip["avi_line_id"]
    line.line_id = ""
    strip.name = "old"
    assert blender.ops.avi_talking.generate() == {"FINISHED"}  # regenerated: replaces, does not stack
    assert layer_strips(head) == ["old blinks", "old expression", "old eyes", "old lips"]

    # The version before per-strip lines: one dialogue and one instruction on the scene.
    settings.lines.clear()
    text = blender.data.texts.new("old instruction")
    text.write(ANGRY)
    settings["instruction_text"] = text
    settings["dialogue"] = "front center"
    settings["analyzed_strip"] = "old"
    path = tmp_path / "old.blend"
    blender.ops.wm.save_as_mainfile(filepath=str(path))
    blender.ops.wm.open_mainfile(filepath=str(path))
    scene = blender.context.scene
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    assert "belong to 'old'" in scene.avi_talking.last_status
    assert line_of(scene).dialogue == "front center" and ANGRY in line_of(scene).instruction_text.as_string()
    assert "instruction_text" not in scene.avi_talking.keys()
    face = blender.data.objects["Face"]
    assert shape_values(scene, face, range(1, 37), ["browDownLeft"]).max() > 0.2


def test_moving_a_line_to_another_face_takes_it_off_the_first(scene, blender, front_center_wav):
    ada, ben = demo_head(blender, "Ada"), demo_head(blender, "Ben")
    add_line(scene, front_center_wav, frame_start=1, dialogue="front center", name="line")
    scene.avi_talking.target = ada
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    blender.context.view_layer.objects.active = ben
    assert blender.ops.avi_talking.use_selected_as_line_face() == {"FINISHED"}
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    assert "taken off 'Ada'" in scene.avi_talking.last_status
    assert layer_strips(ada) == []
    assert shape_values(scene, ada, range(1, 37), ["jawOpen"]).max() < 1e-6  # Ada no longer talks
    assert shape_values(scene, ben, range(1, 37), ["jawOpen"]).max() > 0.2


def test_layers_off_after_layers_on_gives_one_result_not_two(scene, blender, front_center_wav):
    head = demo_head(blender, "Face")
    add_line(scene, front_center_wav, frame_start=1, dialogue="front center")
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    layered = shape_values(scene, head, range(1, 37), ["jawOpen", "mouthClose"])
    scene.avi_talking.use_layers = False
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    assert layer_strips(head) == []  # the line's layers left: its new Action is its one result
    single = shape_values(scene, head, range(1, 37), ["jawOpen", "mouthClose"])
    np.testing.assert_allclose(single, layered, atol=1e-3)
    scene.avi_talking.use_layers = True
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    assert head.data.shape_keys.animation_data.action is None  # and back: the Action steps aside
    np.testing.assert_allclose(shape_values(scene, head, range(1, 37), ["jawOpen", "mouthClose"]), layered, atol=1e-3)
