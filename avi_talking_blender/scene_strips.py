"""Dialogue in one scene, the face in another: an edit scene holds the sound strips and shows a shot scene
through a scene strip. The keys go on the shot's own frames: a scene strip plays the shot from its first
frame (`frame_start`) where the strip's content starts, so shot frame = edit frame − content start +
the shot's first frame."""

from __future__ import annotations

from dataclasses import dataclass

import bpy

from .sequencer import all_strips, content_start, played_span, scene_fps
from .targets import TargetError


@dataclass(frozen=True)
class KeyPlace:
    """Where a face's keys go: its scene (by name) and the offset from the edit's frames to that scene's."""

    scene: str
    offset: float = 0.0

    def of(self) -> bpy.types.Scene:
        scene = bpy.data.scenes.get(self.scene)
        if scene is None:
            raise TargetError(f"the scene '{self.scene}' was removed while the animation was generated")
        return scene


def key_place(scene, face: bpy.types.Object, start: float, end: float) -> KeyPlace:
    """Where `face`'s keys for edit frames [start, end) of `scene` go: `scene` itself when the face is in it,
    else the shot scene a scene strip shows there; refused (TargetError) where no strip shows it."""
    if scene.objects.get(face.name) == face:
        return KeyPlace(scene.name)
    showing = [s for s in all_strips(scene) if s.type == "SCENE" and s.scene is not None
               and s.scene.objects.get(face.name) == face and not s.mute]
    during = [s for s in showing if played_span(scene, s)[0] < end and played_span(scene, s)[1] > start]
    if not during:
        where = f" (scene strips show it at other times: {', '.join(s.name for s in showing)})" if showing else ""
        raise TargetError(f"'{face.name}' is not in the scene '{scene.name}', and no scene strip shows it while "
                          f"this line plays{where}: generate from the face's own scene, or add a scene strip "
                          "of its scene under the line")
    strip = during[0]
    shot = strip.scene
    if abs(scene_fps(shot) - scene_fps(scene)) > 1e-6:
        raise TargetError(f"the scene '{shot.name}' runs at {scene_fps(shot):g} fps and '{scene.name}' at "
                          f"{scene_fps(scene):g}: the keys could not land on its frames; give both one rate")
    return KeyPlace(shot.name, shot.frame_start - content_start(strip))
