"""What can be animated, and which curve drives which shape key or bone.

Recognised targets:
- FLAME add-on meshes (the official FLAME Blender add-on: objects "FLAME-generic/-female/-male"),
  shape keys "Exp1".."Exp100" (1-based), jaw = pose bone "jaw" of the parent armature.
- FLAME heads made by "Add FLAME Head": "Exp1".."Exp50" keys and a "FLAME_jaw" key (jaw opening).
- Any mesh with ARKit-named shape keys in the naming of a common rig family (rig_names.py): ARKit
  and MetaHuman names in any case or after a prefix, side suffixes, snake_case, Character Creator 4.
- The bundled demo head (an ARKit mesh).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import bpy

from .formats import ARKIT_NAMES, FLAME_EXPRESSION_DIM
from .rig_names import arkit_channel
from .viseme_curves import MOUTH_CHANNELS, derived_values, viseme_channel

FLAME_JAW_KEY = "FLAME_jaw"
FLAME_JAW_KEY_RADIANS = 0.35  # FLAME_jaw = 1 is this much jaw pitch
MIN_ARKIT_KEYS = 8  # fewer matches is more likely a coincidence than an ARKit rig
_ARKIT_BY_LOWER = {name.lower(): name for name in ARKIT_NAMES}
MIN_VISEME_KEYS = 3  # mouth visemes (A I U…, viseme_PP…): fewer is a coincidence, not a viseme rig
MIN_FLAME_KEYS = 10  # FLAME heads carry 50 or 100 Exp keys; one stray "Exp1" on an ARKit rig is not FLAME


class TargetError(ValueError):
    """The object cannot be animated; the message says what it lacks."""


@dataclass
class Target:
    obj: bpy.types.Object
    kind: str  # "flame", "arkit", or "viseme" (curves derived from the articulation: viseme_curves.py)
    key_for_channel: dict[str, str] = field(default_factory=dict)  # curve channel → key block name
    jaw_bone: tuple[bpy.types.Object, str] | None = None  # (armature, bone) for FLAME add-on rigs
    # More keys that follow a channel already mapped: a rig's two sides of one ARKit shape
    # (Character Creator's Cheek_Puff_L and Cheek_Puff_R both follow cheekPuff). Key block → channel.
    also_keyed: dict[str, str] = field(default_factory=dict)
    # The face's own mapping table: key block → its rows (curve, weight); a key in several rows
    # follows their mean (one brow key for both brows).
    table_rows: dict[str, list[tuple[str, float]]] = field(default_factory=dict)

    @property
    def from_table(self) -> bool:
        return bool(self.table_rows)

    @property
    def label(self) -> str:
        kinds = {"flame": "FLAME expression", "arkit": "ARKit blendshapes", "viseme": "visemes"}
        keys = len(self.key_for_channel) + len(self.also_keyed)
        source = ", mapping table" if self.from_table else ""
        return f"{kinds[self.kind]} ({keys} keys{source}{' + jaw bone' if self.jaw_bone else ''})"

    @property
    def keyed(self) -> dict[str, str]:
        """Every key block that gets keyed → the curve channel that drives it."""
        return {**{key: channel for channel, key in self.key_for_channel.items()}, **self.also_keyed}


def flame_channel(key_name: str) -> str | None:
    match = re.fullmatch(r"Exp(\d+)", key_name)
    if match and 1 <= int(match[1]) <= FLAME_EXPRESSION_DIM:
        return f"exp{int(match[1]) - 1}"
    return None


def find_target(obj: bpy.types.Object | None, use_table: bool = True) -> Target:
    """What `obj` is and which curve drives which of its keys: its own mapping table when it has
    rows (and `use_table`), else its key names."""
    if obj is None:
        raise TargetError("choose the face mesh to animate (Face field of the AVI-Talking panel)")
    if obj.type != "MESH":
        raise TargetError(f"'{obj.name}' is a {obj.type.lower()}, not a mesh")
    keys = obj.data.shape_keys.key_blocks if obj.data.shape_keys else []
    table = getattr(obj, "avi_key_mapping", None)
    if use_table and table is not None and len(table):
        return _table_target(obj, table, keys)
    flame = {flame_channel(k.name): k.name for k in keys if flame_channel(k.name)}
    if len(flame) >= MIN_FLAME_KEYS:
        target = Target(obj, "flame", flame)
        armature = obj.parent if obj.parent is not None and obj.parent.type == "ARMATURE" else None
        if armature is not None and "jaw" in armature.pose.bones:
            target.jaw_bone = (armature, "jaw")
        elif FLAME_JAW_KEY in keys:
            target.key_for_channel["jaw_pitch"] = FLAME_JAW_KEY
        return target
    by_channel: dict[str, list[str]] = {}
    for key in keys:
        channel = arkit_channel(key.name)
        if channel:
            by_channel.setdefault(channel, []).append(key.name)
    if len(by_channel) >= MIN_ARKIT_KEYS:
        target = Target(obj, "arkit")
        for channel, names in by_channel.items():
            if channel in names:  # a key named exactly like the channel is the one, in any order
                names = [channel]
            target.key_for_channel[channel] = names[0]
            target.also_keyed.update({name: channel for name in names[1:]})
        return target
    visemes: dict[str, str] = {}
    for key in keys:
        channel = viseme_channel(key.name)
        if channel and channel not in visemes:
            visemes[channel] = key.name
    if len(MOUTH_CHANNELS & visemes.keys()) >= MIN_VISEME_KEYS:
        return Target(obj, "viseme", visemes)
    names = [k.name for k in keys][1:]  # the first key block is the basis
    shown = ", ".join(names[:6]) + (", …" if len(names) > 6 else "")
    raise TargetError(
        f"'{obj.name}' has no FLAME expression keys (Exp1…, {len(flame)} of at least {MIN_FLAME_KEYS} found) and no "
        f"ARKit shape keys (jawOpen, … in ARKit, MetaHuman, _L/_R, snake_case or Character Creator 4 naming: "
        f"{len(by_channel)} of at least {MIN_ARKIT_KEYS} found) and no visemes (VRM A I U E O, VRoid Fcl_MTH_*, "
        f"viseme_PP…: {len(MOUTH_CHANNELS & visemes.keys())} of at least {MIN_VISEME_KEYS}) among its "
        f"{len(names)} shape keys"
        + (f" ({shown})" if names else "") + ": use a FLAME add-on head, Add FLAME Head, Add Demo Head, "
        "or a mesh with ARKit blendshapes")


def unmapped_keys(target: Target) -> list[str]:
    """Shape keys of the face that no curve drives (the basis left out)."""
    keyed = set(target.keyed) | set(target.table_rows)
    blocks = target.obj.data.shape_keys.key_blocks if target.obj.data.shape_keys else []
    return [k.name for k in list(blocks)[1:] if k.name not in keyed]


def driven_keys(target: Target) -> list[str]:
    """Shape keys Generate keys that a driver moves instead: Blender evaluates drivers after the
    animation, so their keys never play."""
    animation = target.obj.data.shape_keys.animation_data if target.obj.data.shape_keys else None
    if animation is None:
        return []
    keyed = set(target.keyed) | set(target.table_rows)
    driven = set()
    for fcurve in animation.drivers:
        if not fcurve.mute and fcurve.data_path.startswith('key_blocks["') and fcurve.data_path.endswith('"].value'):
            name = fcurve.data_path[len('key_blocks["'):-len('"].value')]
            if name in keyed:
                driven.add(name)
    return sorted(driven)


def driven_note(target: Target) -> str:
    """What the report adds for driven keys ("" without any)."""
    driven = driven_keys(target)
    if not driven:
        return ""
    shown = ", ".join(driven[:6]) + (f" and {len(driven) - 6} more" if len(driven) > 6 else "")
    return (f"; WILL NOT PLAY: {shown} of '{target.obj.name}' are driven, and a driver wins over keys "
            f"(mute or remove those drivers in the Drivers editor, or key what drives them)")


def _table_target(obj: bpy.types.Object, table, keys) -> Target:
    """The face's own mapping table (curve → shape key, with a weight), checked row by row."""
    names = {k.name for k in keys}
    target = Target(obj, "arkit")
    for row in table:
        channel = _ARKIT_BY_LOWER.get(row.channel.strip().lower())
        if channel is None:
            raise TargetError(f"mapping table of '{obj.name}': '{row.channel}' is not an ARKit curve name")
        if row.key not in names:
            raise TargetError(f"mapping table of '{obj.name}': it has no shape key '{row.key}' (for {channel})")
        target.table_rows.setdefault(row.key, []).append((channel, row.weight))
        if channel not in target.key_for_channel:
            target.key_for_channel[channel] = row.key
        elif target.key_for_channel[channel] != row.key:
            target.also_keyed[row.key] = channel
    return target


def channel_values(target: Target, curves: dict) -> dict[str, list[float]]:
    """Per key block: its value at every frame of the curves document."""
    values: dict[str, list[float]] = {}
    if target.kind == "viseme":
        return {key: derived_values(channel, curves) for channel, key in target.key_for_channel.items()}
    if target.kind == "arkit":
        columns = {name: i for i, name in enumerate(curves["arkit"]["names"])}
        weights = curves["arkit"]["weights"]
        if target.from_table:
            for key, rows in target.table_rows.items():
                values[key] = [sum(frame[columns[c]] * w for c, w in rows) / len(rows) for frame in weights]
            return values
        for key, channel in target.keyed.items():
            values[key] = [row[columns[channel]] for row in weights]
        return values
    expression = curves["flame"]["expression"]
    for channel, key in target.key_for_channel.items():
        if channel == "jaw_pitch":
            values[key] = [row[0] / FLAME_JAW_KEY_RADIANS for row in curves["flame"]["jaw"]]
        else:
            index = int(channel[3:])
            values[key] = [row[index] for row in expression]
    return values


def layer_channel_values(target: Target, curves: dict, layers: tuple[str, ...],
                         sums: list[tuple[str, tuple]]) -> dict[str, dict[str, list[float]]]:
    """Per layer of a layered curves document, per key block: what that layer adds at every frame.

    Read as the rise between running sums (`running_layer_sums`: lips; lips + expression; the whole
    take), so the layers add up to `channel_values` of the take for every rig, the viseme rigs'
    derived channels too."""
    previous, out = None, {}
    for name, running in sums:
        values = channel_values(target, dict(curves, arkit=dict(curves["arkit"], weights=running[0]),
                                             flame=dict(curves["flame"], expression=running[1], jaw=running[2])))
        if name in layers:
            out[name] = values if previous is None else {
                key: [a - b for a, b in zip(series, previous[key])] for key, series in values.items()}
        previous = values
    return out


def running_layer_sums(curves: dict) -> list[tuple[str, tuple]]:
    """Per layer in order: (name, (ARKit weights, FLAME expression, FLAME jaw) of the layers up to it)."""
    sums, running = [], None
    for name in curves["arkit"]["layers"]:
        layer = (curves["arkit"]["layers"][name], curves["flame"]["layers"][name]["expression"],
                 curves["flame"]["layers"][name]["jaw"])
        running = layer if running is None else tuple(
            [[a + b for a, b in zip(row, new_row)] for row, new_row in zip(total, part)]
            for total, part in zip(running, layer))
        sums.append((name, running))
    return sums
