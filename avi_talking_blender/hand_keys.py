"""The animator's active Action over the generated layers.

Blender evaluates the active Action after the NLA, and in Replace mode its keys win: a shape key the
animator keyed with I (jawOpen held at 0.10) would never show the generated lips, silently. Generate
with Layers therefore looks for such keys on everything it is about to animate (the face's shape keys,
the jaw, head and eye bones, the face object's delta transform). With the animator's consent (the panel's
*Push Down Hand Keys*) the Action moves to an NLA track of its own below the AVI layers, where the layers
add to it; without it, Generate refuses and names the keys.
"""

from __future__ import annotations

import bpy

from .nla_layers import LINE_PROPERTY, REST_TRACK, copy_tracks, fcurves_of, owner_name

HAND_TRACK_SUFFIX = " (hand keys)"


class HandKeysInTheWay(ValueError):
    """The animator's active Action would hide the generated layers; the message says which keys."""


def masking_paths(id_data: bpy.types.ID, paths) -> list[str]:
    """The data paths of `id_data`'s active Action, not a generated one, that would replace any of `paths`
    (a set, or a function telling whether a path is one) over the NLA."""
    animation = id_data.animation_data
    action = animation.action if animation is not None else None
    if action is None or action.get(LINE_PROPERTY) or animation.action_blend_type != "REPLACE" \
            or animation.action_influence == 0.0:
        return []
    wanted = paths if callable(paths) else paths.__contains__
    curves = fcurves_of(action, getattr(animation, "action_slot", None))
    return sorted({fc.data_path for fc in curves if not fc.mute and wanted(fc.data_path)})


def describe(id_data: bpy.types.ID, paths: list[str]) -> str:
    names = [p.split('"')[1] if '"' in p else p for p in paths]
    shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
    return f"'{owner_name(id_data)}': {shown} (Action '{id_data.animation_data.action.name}')"


def check_or_push_down(found: list[tuple[bpy.types.ID, list[str]]], push_down: bool) -> list[str]:
    """Refuse, naming the keys, or push each Action down below the layers; returns what was pushed down."""
    found = [(id_data, paths) for id_data, paths in found if paths]
    if not found:
        return []
    if not push_down:
        raise HandKeysInTheWay(
            "your own keys in the active Action would play over the generated layers and hide them: "
            + "; ".join(describe(i, p) for i, p in found)
            + ". Turn on Push Down Hand Keys (the Action moves to a track below the layers, which add to it), "
              "or push it down yourself in the NLA editor")
    return [push_down_below_layers(id_data) for id_data, _ in found]


def push_down_below_layers(id_data: bpy.types.ID) -> str:
    """Move the active Action to a Replace strip on a track of its own below the AVI tracks (above the AVI
    rest track); returns the track's name."""
    animation = id_data.animation_data
    action, slot = animation.action, getattr(animation, "action_slot", None)
    tracks = list(animation.nla_tracks)
    ours = [i for i, t in enumerate(tracks) if t.name.startswith("AVI ") and t.name != REST_TRACK]
    if ours and ours[0] == 0:  # nothing below the layers to add it after: a new bottom track
        track = _new_bottom_track(animation)
    else:
        track = animation.nla_tracks.new(prev=tracks[ours[0] - 1] if ours else None)
    track.name = f"{action.name}{HAND_TRACK_SUFFIX}"[:63]
    strip = track.strips.new(action.name[:63], int(action.frame_range[0]), action)
    if slot is not None and hasattr(strip, "action_slot"):
        strip.action_slot = slot
    strip.blend_type, strip.extrapolation = "REPLACE", "HOLD"  # held as the keys were before and after
    animation.action = None
    return track.name


def _new_bottom_track(animation) -> bpy.types.NlaTrack:
    """Blender adds a track only above another one, so the bottom one is made by re-making every track
    above a new one, in the same order."""
    old_tracks = list(animation.nla_tracks)
    bottom = animation.nla_tracks.new()
    copy_tracks(animation, animation, old_tracks)
    for old in old_tracks:
        animation.nla_tracks.remove(old)
    return bottom
