"""The sidebar panels: registered in both editors, and their draw code uses only real properties
and operators (background mode draws no UI, so draw() runs against a layout that checks each call)."""

from __future__ import annotations

import pytest

from .helpers import add_sound_strip, line_of, mesh_with_keys


class CheckingLayout:
    """Stands in for UILayout: every prop must exist on its data, every operator must be registered."""

    def __init__(self, bpy, drawn: list):
        self.bpy, self.drawn = bpy, drawn

    def _child(self, *args, **kwargs):
        return CheckingLayout(self.bpy, self.drawn)

    box = row = column = split = _child

    def prop(self, data, name, **kwargs):
        assert name in data.bl_rna.properties, f"{type(data).__name__} has no property {name}"
        self.drawn.append(("prop", name))

    def prop_search(self, data, name, search_data, search_name, **kwargs):
        assert name in data.bl_rna.properties, f"{type(data).__name__} has no property {name}"
        assert search_name in search_data.bl_rna.properties, f"{type(search_data).__name__} has no {search_name}"
        self.drawn.append(("prop_search", name))

    def operator(self, idname, **kwargs):
        group, name = idname.split(".")
        getattr(getattr(self.bpy.ops, group), name).get_rna_type()  # KeyError when not registered
        self.drawn.append(("operator", idname))
        return type("Properties", (), {})()

    def label(self, text="", **kwargs):
        self.drawn.append(("label", text))

    def progress(self, factor=0.0, type="BAR", text=""):
        assert 0.0 <= factor <= 1.0
        self.drawn.append(("progress", text))


def test_panels_live_in_the_sequencer_and_the_3d_viewport_sidebars(blender):
    for name, space in (("AVI_TALKING_PT_sequencer", "SEQUENCE_EDITOR"), ("AVI_TALKING_PT_view3d", "VIEW_3D")):
        panel = getattr(blender.types, name)
        assert (panel.bl_space_type, panel.bl_region_type, panel.bl_category) == (space, "UI", "AVI-Talking")


@pytest.mark.parametrize("with_inputs", [False, True])
def test_panel_draws_with_and_without_a_face_strip_and_segments(scene, blender, addon, front_center_wav, with_inputs):
    if with_inputs:
        obj = mesh_with_keys("Face", ["jawOpen", "mouthClose", "eyeBlinkLeft", "browInnerUp", "mouthSmileLeft",
                                      "mouthSmileRight", "cheekPuff", "tongueOut"])
        scene.avi_talking.target = obj
        add_sound_strip(scene, front_center_wav, frame_start=12, name="fc")
        text = blender.data.texts.new("AVI instruction")
        text.write("A calm person speaks with jaw opening slightly.")
        line_of(scene).instruction_text = text
        segment = line_of(scene).segments.add()
        segment.start, segment.end, segment.instruction = 0.0, 1.2, "A calm person speaks."
        scene.avi_talking.last_status = "keyed 30 frames on 'Face'"
    drawn: list = []
    addon("panels").draw_avi_talking(CheckingLayout(blender, drawn), blender.context)
    operators = {d[1] for d in drawn if d[0] == "operator"}
    assert {"avi_talking.analyze", "avi_talking.generate", "avi_talking.export_animation",
            "avi_talking.start_server", "avi_talking.add_demo_head"} <= operators
    labels = " | ".join(d[1] for d in drawn if d[0] == "label")
    if with_inputs:
        assert "ARKit blendshapes (8 keys)" in labels and "fc: frames 12–47, 0.00–1.44 s of its file" in labels
        assert "A calm person speaks with jaw opening slightly." in labels
        assert {("prop", "start"), ("prop", "end"), ("prop", "instruction")} <= set(drawn)
        assert "keyed 30 frames" in labels
    else:
        assert "choose the face mesh" in labels and "add the dialogue as a sound strip" in labels


def test_panel_shows_takes_guidance_and_model_next_to_the_seed(scene, blender, addon):
    settings = scene.avi_talking
    for number, seed in ((1, 4), (2, 5)):
        take = settings.takes.add()
        take.number, take.seed, take.strip, take.in_use = number, seed, "fc", number == 2
    drawn: list = []
    addon("panels").draw_avi_talking(CheckingLayout(blender, drawn), blender.context)
    props = [d[1] for d in drawn if d[0] == "prop"]
    assert props.index("seed") < props.index("samples") < props.index("guidance") < props.index("synthesis")
    labels = [d[1] for d in drawn if d[0] == "label"]
    assert "fc: take 1, typical" in labels and "fc: take 2, seed 5" in labels
    assert [d for d in drawn if d == ("operator", "avi_talking.use_take")] == [("operator", "avi_talking.use_take")] * 2
