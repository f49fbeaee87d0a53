"""The sound strip to animate: the active strip of the Video Sequencer, if it is a sound."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import bpy


class StripError(ValueError):
    """No usable sound strip; the message says what to do."""


@dataclass(frozen=True)
class SoundClip:
    name: str
    path: str  # absolute path of the audio file
    start_frame: float  # scene frame where the sound's time 0 plays


def all_strips(scene: bpy.types.Scene) -> list:
    editor = scene.sequence_editor
    if editor is None:
        return []
    # Blender 5.0 renamed sequences_all → strips_all.
    strips = editor.strips_all if hasattr(editor, "strips_all") else editor.sequences_all
    return list(strips or [])


def active_sound_clip(scene: bpy.types.Scene) -> SoundClip:
    editor = scene.sequence_editor
    strip = editor.active_strip if editor is not None else None
    if strip is None:
        sounds = [s for s in all_strips(scene) if s.type == "SOUND"]
        if len(sounds) != 1:
            raise StripError("select a sound strip in the Video Sequencer (it must be the active strip)"
                             if sounds else "add the dialogue as a sound strip in the Video Sequencer first")
        strip = sounds[0]
    if strip.type != "SOUND" or strip.sound is None:
        raise StripError(f"the active strip '{strip.name}' is not a sound strip")
    path = Path(bpy.path.abspath(strip.sound.filepath, library=strip.sound.library))
    if strip.sound.packed_file is not None and not path.is_file():
        raise StripError(f"'{strip.name}' uses packed audio: unpack it (File ▸ External Data ▸ Unpack) first")
    if not path.is_file():
        raise StripError(f"audio file of '{strip.name}' not found: {path}")
    return SoundClip(strip.name, str(path), float(strip.frame_start))


def scene_fps(scene: bpy.types.Scene) -> float:
    return scene.render.fps / scene.render.fps_base
