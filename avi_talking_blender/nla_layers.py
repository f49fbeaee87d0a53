"""Generated animation as NLA layers: one track per layer (lips, expression, eyes, blinks), one strip per
dialogue line on each, all in Add blend mode, so they compose with each other and with the
animator's own tracks, and each can be muted, weighted (strip influence) or moved on its own.

A line's strips are found again by what their Actions carry (`avi_line`: the line's id, which its
sound strip carries too, see line_identity.py; `avi_layer`), so generating a line again replaces that
line's strips only, after its strip was renamed too, and on whichever face they were.

Blender 5.0 starts the NLA stack of a shape key at the property's default, which is 1.0 there (0.0 in
4.2), so Add strips with nothing below would add to a key held fully on. An "AVI rest" track, one
Replace strip holding 0 for every generated key that no other track animates, gives them the rest
value to add to; keys the animator's own tracks animate start from those tracks instead. The Action of a replaced strip keeps a fake
user: an edit the animator made to it is never lost. Outside its strip a layer adds nothing.
"""

from __future__ import annotations

import re

import bpy

LAYER_TRACKS = {"lips": "AVI lips", "expression": "AVI expression", "eyes": "AVI eyes", "blinks": "AVI blinks",
                "head": "AVI head", "listening": "AVI listening"}
REST_TRACK = "AVI rest"
LINE_PROPERTY, LAYER_PROPERTY = "avi_line", "avi_layer"


def place_layer(id_data: bpy.types.ID, action: bpy.types.Action, slot, *, line: str, layer: str,
                blend_type: str = "ADD") -> bpy.types.NlaStrip:
    """Play `action` (keys on scene frames) as `line`'s strip on the `layer` track of `id_data`. Rotations
    of bones and objects blend in Combine mode: quaternions compose by multiplication there, Eulers add."""
    action[LINE_PROPERTY], action[LAYER_PROPERTY] = line, layer
    animation = id_data.animation_data or id_data.animation_data_create()
    remove_line(id_data, line, layers=(layer,))
    first, last = action.frame_range
    track = _track_with_room(animation, LAYER_TRACKS[layer], first, last)
    # Named as its Action, less the prefix and the ".001" Blender adds while the replaced Action is kept.
    label = re.sub(r"\.\d{3}$", "", action.name.removeprefix("AVI_"))
    strip = track.strips.new(label[:63], int(round(first)), action)
    if slot is not None and hasattr(strip, "action_slot"):  # Blender 4.4+: which slot of the Action plays
        strip.action_slot = slot
    strip.blend_type = blend_type
    strip.extrapolation = "NOTHING"  # no hold before or after: another line's strip may be there
    return strip


def ensure_rest(key: bpy.types.Key, data_paths: list[str], new_action) -> None:
    """Give every path in `data_paths` that no other track animates a rest value of 0 below the
    layers (`new_action(name, paths) -> (action, slot)` makes the holding Action)."""
    animation = key.animation_data or key.animation_data_create()
    others = {fc.data_path for track in animation.nla_tracks if not track.name.startswith("AVI ")
              for strip in track.strips for fc in _fcurves(strip)}
    track = next((t for t in animation.nla_tracks if t.name == REST_TRACK), None)
    held = {fc.data_path for strip in (track.strips if track else ()) for fc in _fcurves(strip)}
    wanted = sorted((set(data_paths) - others) | (held - others))
    if track is not None and set(wanted) == held:
        return
    if track is None:
        track = animation.nla_tracks.new()
        track.name = REST_TRACK
    for strip in list(track.strips):
        track.strips.remove(strip)
    if not wanted:
        return
    action, slot = new_action(f"AVI rest {owner_name(key)}", wanted)
    strip = track.strips.new("rest", int(action.frame_range[0]), action)
    if slot is not None and hasattr(strip, "action_slot"):
        strip.action_slot = slot
    strip.blend_type, strip.extrapolation = "REPLACE", "HOLD"  # held for all time, before and after


def _fcurves(strip) -> list:
    return fcurves_of(strip.action, getattr(strip, "action_slot", None))


def fcurves_of(action, slot) -> list:
    """The F-curves that `slot` of `action` plays (Blender 4.4+ keeps them per slot in a channelbag)."""
    if action is None:
        return []
    if hasattr(action, "layers") and action.layers:
        bag = action.layers[0].strips[0].channelbag(slot) if slot is not None else None
        return list(bag.fcurves) if bag is not None else []
    return list(getattr(action, "fcurves", []))


def remove_line(id_data: bpy.types.ID, line: str, layers: tuple[str, ...] = tuple(LAYER_TRACKS)) -> None:
    """Take `line`'s strips of `layers` off their tracks (their Actions stay, with a fake user)."""
    animation = id_data.animation_data
    if animation is None:
        return
    for track in animation.nla_tracks:
        for strip in list(track.strips):
            action = strip.action
            if action is not None and action.get(LINE_PROPERTY) == line and action.get(LAYER_PROPERTY) in layers:
                action.use_fake_user = True
                track.strips.remove(strip)


def owner_name(id_data: bpy.types.ID) -> str:
    """The object a report names for `id_data`: a shape-key datablock's mesh object, else the ID itself."""
    if isinstance(id_data, bpy.types.Key) and id_data.user is not None:
        return id_data.user.name
    return id_data.name


def animated_ids() -> list[bpy.types.ID]:
    """Everything in the file that generated animation can be on: shape keys, objects (armatures too)."""
    return [i for i in list(bpy.data.shape_keys) + list(bpy.data.objects) if i.animation_data is not None]


def release_line(line: str, *, keep_layers_on: set, layers: tuple[str, ...]) -> list[str]:
    """Before `line` is written again: take its `layers` strips off every other face (the line moved to
    another face) and its single Action off every face (one line, one result: layers and a single Action
    of the same line would both play). Returns the names of the faces that lost it, for the report."""
    released = []
    for id_data in animated_ids():
        animation = id_data.animation_data
        owner = owner_name(id_data)
        if animation.action is not None and animation.action.get(LINE_PROPERTY) == line \
                and not animation.action.get(LAYER_PROPERTY):
            animation.action.use_fake_user = True
            animation.action = None
            released.append(owner)
        if id_data not in keep_layers_on and any(
                s.action is not None and s.action.get(LINE_PROPERTY) == line and s.action.get(LAYER_PROPERTY) in layers
                for t in animation.nla_tracks for s in t.strips):
            remove_line(id_data, line, layers)
            released.append(owner)
    return sorted(set(released))


def generated_frame_range(id_data: bpy.types.ID | None) -> tuple[int, int] | None:
    """First and last frame of the generated animation: every AVI layer strip and the active Action."""
    animation = id_data.animation_data if id_data is not None else None
    if animation is None:
        return None
    spans = [tuple(animation.action.frame_range)] if animation.action is not None else []
    spans += [(s.frame_start, s.frame_end) for t in animation.nla_tracks for s in t.strips
              if s.action is not None and s.action.get(LAYER_PROPERTY)]
    if not spans:
        return None
    return int(min(a for a, _ in spans)), int(max(b for _, b in spans))


def _track_with_room(animation, name: str, first: float, last: float) -> bpy.types.NlaTrack:
    """The layer's track ("AVI lips", then "AVI lips 2", …) with no strip overlapping first–last."""
    tracks = {track.name: track for track in animation.nla_tracks}
    number = 1
    while True:
        track_name = name if number == 1 else f"{name} {number}"
        track = tracks.get(track_name)
        if track is None:
            track = animation.nla_tracks.new()
            track.name = track_name
            return track
        if all(strip.frame_end < first or strip.frame_start > last for strip in track.strips):
            return track
        number += 1


STRIP_SETTINGS = ("action_frame_start", "action_frame_end", "scale", "repeat", "frame_start", "frame_end", "blend_type",
                  "extrapolation", "influence", "use_animated_influence", "mute", "blend_in", "blend_out")


def copy_tracks(source, target, tracks=None) -> None:
    """Re-make `tracks` (default: all) of the AnimData `source` on top of the AnimData `target`: the same
    strips, playing the same Actions (and slots), with the same timing, blending and muting."""
    for old in list(source.nla_tracks) if tracks is None else tracks:
        track = target.nla_tracks.new(prev=None)
        track.name, track.mute = old.name, old.mute
        for strip in old.strips:
            copy = track.strips.new(strip.name, int(strip.frame_start), strip.action)
            if getattr(strip, "action_slot", None) is not None:
                copy.action_slot = strip.action_slot
            for name in STRIP_SETTINGS:
                setattr(copy, name, getattr(strip, name))
