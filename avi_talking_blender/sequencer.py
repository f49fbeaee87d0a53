"""The sound strip to animate: the active strip of the Video Sequencer, if it is a sound.

Only what the strip plays is animated: a strip trimmed in the sequencer (its handles moved in) plays
the part of its file between them, and `sound_offset` (seconds) moves the file later under the strip.
A strip that Blender does not play (muted, on a muted channel, in a muted meta strip, cut off by a meta
strip's trim, outside the scene's range) is not animated: `silent_reason` says why.
Frame f of the scene plays file time (f - content start) / fps - sound_offset. Blender 5.1 renamed the
strip's frame properties (frame_start → content_start, frame_final_start/end → left/right_handle); both
names are read here, the new ones first.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import bpy


class StripError(ValueError):
    """No usable sound strip; the message says what to do."""


@dataclass(frozen=True)
class SoundClip:
    name: str
    path: str  # absolute path of the audio file
    start_frame: float  # first key: the first whole scene frame the strip plays
    audio_start: float  # seconds into the file that play at start_frame
    audio_end: float  # seconds into the file where the strip stops playing
    end_frame: float  # the scene frame where the strip stops playing (exclusive)

    @property
    def request_span(self) -> dict:
        """What the model process animates: the part of the file the strip plays."""
        return {"clip_start": self.audio_start, "clip_end": self.audio_end}


def content_start(strip) -> float:
    """Scene frame where the strip's content starts, before trimming. Blender 5.1 names it `content_start`
    and deprecates `frame_start` for removal in 6.0; 5.0 and older have only `frame_start`."""
    return float(strip.content_start if hasattr(strip, "content_start") else strip.frame_start)


def left_handle(strip) -> float:
    """First scene frame the strip plays (`left_handle` from 5.1 on, `frame_final_start` before)."""
    return float(strip.left_handle if hasattr(strip, "left_handle") else strip.frame_final_start)


def right_handle(strip) -> float:
    """Scene frame where the strip stops playing, exclusive (`right_handle`, or `frame_final_end`)."""
    return float(strip.right_handle if hasattr(strip, "right_handle") else strip.frame_final_end)


def sound_zero_frame(strip, fps: float) -> float:
    """Scene frame where time 0 of the strip's file plays (it may lie before the strip's start)."""
    return content_start(strip) + float(getattr(strip, "sound_offset", 0.0)) * fps


def key_start_frame(strip, fps: float, clip_start: float) -> float:
    """Scene frame of curves frame 0, for curves made from `clip_start` seconds into the strip's file."""
    return sound_zero_frame(strip, fps) + clip_start * fps


def all_strips(scene: bpy.types.Scene) -> list:
    editor = scene.sequence_editor
    if editor is None:
        return []
    # Blender 5.0 renamed sequences_all → strips_all.
    strips = editor.strips_all if hasattr(editor, "strips_all") else editor.sequences_all
    return list(strips or [])


def parent_meta(strip):
    """The meta strip that holds `strip`, or None at the top level."""
    return strip.parent_meta() if hasattr(strip, "parent_meta") else None


def _channel_muted(scene, strip) -> bool:
    holder = parent_meta(strip) or scene.sequence_editor
    channels = getattr(holder, "channels", None)
    return channels is not None and 0 <= strip.channel < len(channels) and channels[strip.channel].mute


def played_span(scene, strip) -> tuple[float, float]:
    """Scene frames [first, end) where `strip` can be heard: its handles, within the handles of every meta
    strip around it (a meta trimmed shorter than its content cuts it off)."""
    first, end = left_handle(strip), right_handle(strip)
    meta = parent_meta(strip)
    while meta is not None:
        first, end = max(first, left_handle(meta)), min(end, right_handle(meta))
        meta = parent_meta(meta)
    return first, end


def silent_reason(scene, strip) -> str | None:
    """Why Blender does not play `strip` (muted, on a muted channel, inside a muted or too short meta,
    outside the scene's frame range), or None when it plays."""
    owner = strip
    while owner is not None:
        where = f"'{strip.name}'" if owner == strip else f"the meta strip '{owner.name}' around '{strip.name}'"
        if owner.mute:
            return f"{where} is muted"
        if _channel_muted(scene, owner):
            return f"{where} is on channel {owner.channel}, which is muted"
        owner = parent_meta(owner)
    first, end = played_span(scene, strip)
    if end <= first:
        return f"'{strip.name}' lies outside the frames of the meta strip around it"
    if end <= scene.frame_start or first > scene.frame_end:
        return f"'{strip.name}' lies outside the scene's frame range ({scene.frame_start}–{scene.frame_end})"
    return None


def sound_strips(scene: bpy.types.Scene, *, selected_only: bool = False, playing: bool = True) -> list:
    """The scene's sound strips (with `playing`, those Blender plays: silent_reason), in the order they
    play (then by channel)."""
    strips = [s for s in all_strips(scene) if s.type == "SOUND" and (s.select or not selected_only)
              and not (playing and silent_reason(scene, s))]
    return sorted(strips, key=lambda s: (left_handle(s), s.channel, s.name))


def active_sound_clip(scene: bpy.types.Scene) -> SoundClip:
    editor = scene.sequence_editor
    strip = editor.active_strip if editor is not None else None
    if strip is None:
        sounds = [s for s in all_strips(scene) if s.type == "SOUND"]
        if len(sounds) != 1:
            raise StripError("select a sound strip in the Video Sequencer (it must be the active strip)"
                             if sounds else "add the dialogue as a sound strip in the Video Sequencer first")
        strip = sounds[0]
    return sound_clip(scene, strip)


def sound_clip(scene: bpy.types.Scene, strip) -> SoundClip:
    """What `strip` plays: its file and the part of it between the strip's handles."""
    if strip.type != "SOUND" or strip.sound is None:
        raise StripError(f"the active strip '{strip.name}' is not a sound strip")
    path = Path(bpy.path.abspath(strip.sound.filepath, library=strip.sound.library))
    if strip.sound.packed_file is not None:  # what Blender plays is the packed copy, whatever is on disk now
        path = packed_audio_file(strip.sound)
    if not path.is_file():
        raise StripError(f"audio file of '{strip.name}' not found: {path}")
    silent = silent_reason(scene, strip)
    if silent:
        raise StripError(f"{silent}: it does not play, so it is not animated")
    fps = scene_fps(scene)
    zero = sound_zero_frame(strip, fps)
    first, end = played_span(scene, strip)
    first = max(first, zero)  # nothing plays before the file starts
    start_frame = float(math.ceil(first - 1e-6))  # keys on whole frames
    audio_end = (end - zero) / fps
    if audio_end <= (start_frame - zero) / fps:
        raise StripError(f"'{strip.name}' plays none of its sound: its sound offset puts the file after the strip's end")
    return SoundClip(strip.name, str(path), start_frame, (start_frame - zero) / fps, audio_end, end)


def packed_audio_file(sound) -> Path:
    """The bytes packed into the .blend, in a file of their own (named by their hash, written once) in the
    temporary folder: the model process reads a file, and this one is what Blender plays."""
    data = bytes(sound.packed_file.data)
    suffix = Path(sound.filepath).suffix.lower()
    if not suffix[1:].isalnum() or len(suffix) > 6:
        suffix = ".audio"
    folder = Path(tempfile.gettempdir()) / "avi-talking-packed"
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / f"{hashlib.sha256(data).hexdigest()[:32]}{suffix}"
    if not path.is_file() or path.stat().st_size != len(data):
        partial = path.with_name(path.name + f".{os.getpid()}.partial")
        partial.write_bytes(data)
        partial.replace(path)
    return path


def scene_fps(scene: bpy.types.Scene) -> float:
    return scene.render.fps / scene.render.fps_base
