"""What the animator types is understood, or the report says it was not (real bpy, real server)."""

from __future__ import annotations

from .helpers import add_line
from .test_scene_batch import demo_head, shape_values


def test_free_text_is_read_by_meaning_and_words_that_change_nothing_are_named(scene, blender, addon,
                                                                             front_center_wav):
    head = demo_head(blender, "Face")
    add_line(scene, front_center_wav, frame_start=1, dialogue="front center", instruction="utterly heartbroken")
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    status = scene.avi_talking.last_status
    assert 'instruction read as sad (very) by meaning (nearest "' in status, status
    assert shape_values(scene, head, range(1, 37), ["mouthFrownLeft", "browInnerUp"]).max() > 0.3

    text = scene.avi_talking.lines[0].instruction_text
    text.clear()
    text.write("speaks like a pirate")
    assert blender.ops.avi_talking.generate() == {"FINISHED"}
    status = scene.avi_talking.last_status
    assert "instruction read as neutral (nothing in it was understood); changed nothing: like, pirate" in status

    from .test_panels import CheckingLayout  # and the panel says so under the instruction, as an error line

    drawn: list = []
    addon("panels").draw_avi_talking(CheckingLayout(blender, drawn), blender.context)
    assert ("label", "Last Generate read as neutral (nothing in it was understood); changed nothing: like, pirate") \
        in drawn
