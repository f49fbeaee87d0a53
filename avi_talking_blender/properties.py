"""Per-shot settings, saved in the .blend with the Scene: target, dialogue, instructions, seed."""

from __future__ import annotations

import bpy
from bpy.props import BoolProperty, CollectionProperty, FloatProperty, IntProperty, PointerProperty, StringProperty


def _is_mesh(self, obj: bpy.types.Object) -> bool:
    return obj.type == "MESH"


class AVI_TALKING_Segment(bpy.types.PropertyGroup):
    start: FloatProperty(name="Start", unit="TIME_ABSOLUTE", min=0.0)
    end: FloatProperty(name="End", unit="TIME_ABSOLUTE", min=0.0)
    instruction: StringProperty(name="Instruction", description="How the face moves in this segment")


class AVI_TALKING_SceneSettings(bpy.types.PropertyGroup):
    target: PointerProperty(name="Face", type=bpy.types.Object, poll=_is_mesh,
                            description="Mesh with FLAME (Exp1…) or ARKit shape keys to animate")
    dialogue: StringProperty(name="Dialogue", description="What is said (optional): exact phone timing "
                                                          "by forced alignment instead of recognition")
    instruction_text: PointerProperty(name="Instruction", type=bpy.types.Text,
                                      description="Visual instruction for the whole clip (editable text)")
    segments: CollectionProperty(type=AVI_TALKING_Segment)
    use_segments: BoolProperty(name="Per-segment instructions", default=True,
                               description="Use each segment's own instruction instead of the whole-clip text")
    seed: IntProperty(name="Seed", default=0, min=0, description="Different seeds give different takes")
    analyzed_strip: StringProperty(description="Sound strip the instruction was written for")


classes = (AVI_TALKING_Segment, AVI_TALKING_SceneSettings)


def register_properties() -> None:
    bpy.types.Scene.avi_talking = PointerProperty(type=AVI_TALKING_SceneSettings)


def unregister_properties() -> None:
    del bpy.types.Scene.avi_talking
