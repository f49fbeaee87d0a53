"""What can be animated, and which curve drives which shape key or bone.

Recognised targets:
- FLAME add-on meshes (the official FLAME Blender add-on: objects "FLAME-generic/-female/-male"),
  shape keys "Exp1".."Exp100" (1-based), jaw = pose bone "jaw" of the parent armature.
- FLAME heads made by "Add FLAME Head": "Exp1".."Exp50" keys and a "FLAME_jaw" key (jaw opening).
- Any mesh with ARKit-named shape keys ("jawOpen", also "blendShape1.jawOpen" or other case).
- The bundled demo head (an ARKit mesh).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import bpy

from .formats import ARKIT_NAMES, FLAME_EXPRESSION_DIM

FLAME_JAW_KEY = "FLAME_jaw"
FLAME_JAW_KEY_RADIANS = 0.35  # FLAME_jaw = 1 is this much jaw pitch
MIN_ARKIT_KEYS = 8  # fewer matches is more likely a coincidence than an ARKit rig
MIN_FLAME_KEYS = 10  # FLAME heads carry 50 or 100 Exp keys; one stray "Exp1" on an ARKit rig is not FLAME
_ARKIT_LOWER = {name.lower(): name for name in ARKIT_NAMES}


class TargetError(ValueError):
    """The object cannot be animated; the message says what it lacks."""


@dataclass
class Target:
    obj: bpy.types.Object
    kind: str  # "flame" or "arkit"
    key_for_channel: dict[str, str] = field(default_factory=dict)  # curve channel → key block name
    jaw_bone: tuple[bpy.types.Object, str] | None = None  # (armature, bone) for FLAME add-on rigs

    @property
    def label(self) -> str:
        kinds = {"flame": "FLAME expression", "arkit": "ARKit blendshapes"}
        return f"{kinds[self.kind]} ({len(self.key_for_channel)} keys{' + jaw bone' if self.jaw_bone else ''})"


def arkit_channel(key_name: str) -> str | None:
    """The ARKit name a shape key stands for: exact, any case, or after a prefix ("bs.jawOpen",
    "head_jawOpen"). A corrective that combines two ARKit shapes ("jawOpen_mouthClose") stands for neither."""
    parts = key_name.split("_")
    if len(parts) > 1 and sum(part.lower() in _ARKIT_LOWER for part in parts) >= 2:
        return None
    for candidate in (key_name, re.split(r"[.:|]", key_name)[-1], parts[-1]):
        found = _ARKIT_LOWER.get(candidate.lower())
        if found:
            return found
    return None


def flame_channel(key_name: str) -> str | None:
    match = re.fullmatch(r"Exp(\d+)", key_name)
    if match and 1 <= int(match[1]) <= FLAME_EXPRESSION_DIM:
        return f"exp{int(match[1]) - 1}"
    return None


def find_target(obj: bpy.types.Object | None) -> Target:
    if obj is None:
        raise TargetError("choose the face mesh to animate (Face field of the AVI-Talking panel)")
    if obj.type != "MESH":
        raise TargetError(f"'{obj.name}' is a {obj.type.lower()}, not a mesh")
    keys = obj.data.shape_keys.key_blocks if obj.data.shape_keys else []
    flame = {flame_channel(k.name): k.name for k in keys if flame_channel(k.name)}
    if len(flame) >= MIN_FLAME_KEYS:
        target = Target(obj, "flame", flame)
        armature = obj.parent if obj.parent is not None and obj.parent.type == "ARMATURE" else None
        if armature is not None and "jaw" in armature.pose.bones:
            target.jaw_bone = (armature, "jaw")
        elif FLAME_JAW_KEY in keys:
            target.key_for_channel["jaw_pitch"] = FLAME_JAW_KEY
        return target
    arkit = {}
    for key in keys:
        channel = arkit_channel(key.name)
        # A key named exactly like the channel wins over one found by case or prefix, in any order.
        if channel and (channel not in arkit or key.name == channel):
            arkit[channel] = key.name
    if len(arkit) >= MIN_ARKIT_KEYS:
        return Target(obj, "arkit", arkit)
    raise TargetError(
        f"'{obj.name}' has no FLAME expression keys (Exp1…) and no ARKit shape keys (jawOpen, …): "
        "use a FLAME add-on head, Add FLAME Head, Add Demo Head, or a mesh with ARKit blendshapes")


def channel_values(target: Target, curves: dict) -> dict[str, list[float]]:
    """Per key block: its value at every frame of the curves document."""
    values: dict[str, list[float]] = {}
    if target.kind == "arkit":
        columns = {name: i for i, name in enumerate(curves["arkit"]["names"])}
        weights = curves["arkit"]["weights"]
        for channel, key in target.key_for_channel.items():
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
