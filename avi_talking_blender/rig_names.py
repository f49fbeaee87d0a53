"""Shape-key names of the common rig families → the ARKit channel each one stands for.

One table per family the normaliser below cannot read by itself, and one normaliser for the rest:
- ARKit's own names, any case (MetaHuman's ARKit pose names are PascalCase: "JawOpen"), after a
  prefix ("blendShape1.jawOpen", "head_jawOpen");
- side suffixes instead of Left/Right ("mouthSmile_L", "eyeBlink.R", "browDown_Left");
- snake_case ("jaw_open", "mouth_smile_left", "eye_blink_l");
- Character Creator 4 / iClone names that say it differently ("Brow_Drop_L", "Cheek_Raise_R",
  "Eye_L_Look_Up"), and its two-sided keys for one ARKit channel ("Cheek_Puff_L" and "_R" both
  follow cheekPuff).
A corrective that joins two ARKit shapes ("jawOpen_mouthClose") stands for neither. Stdlib only.
"""

from __future__ import annotations

import re

from .formats import ARKIT_NAMES

_LOWER = {name.lower(): name for name in ARKIT_NAMES}
_SIDE = re.compile(r"[._ -](l|r|left|right)$", re.IGNORECASE)
_SIDES = {"l": "left", "r": "right", "left": "left", "right": "right"}

# Character Creator 4 / iClone names the normaliser cannot read (the rest, "Mouth_Smile_L", it can).
CC4_NAMES = {
    "brow_drop_l": "browDownLeft", "brow_drop_r": "browDownRight",
    "brow_raise_inner_l": "browInnerUp", "brow_raise_inner_r": "browInnerUp",
    "brow_raise_outer_l": "browOuterUpLeft", "brow_raise_outer_r": "browOuterUpRight",
    "cheek_raise_l": "cheekSquintLeft", "cheek_raise_r": "cheekSquintRight",
    "cheek_puff_l": "cheekPuff", "cheek_puff_r": "cheekPuff",
    "eye_l_look_up": "eyeLookUpLeft", "eye_r_look_up": "eyeLookUpRight",
    "eye_l_look_down": "eyeLookDownLeft", "eye_r_look_down": "eyeLookDownRight",
    "eye_l_look_l": "eyeLookOutLeft", "eye_l_look_r": "eyeLookInLeft",
    "eye_r_look_l": "eyeLookInRight", "eye_r_look_r": "eyeLookOutRight",
    "jaw_l": "jawLeft", "jaw_r": "jawRight", "mouth_l": "mouthLeft", "mouth_r": "mouthRight",
    "mouth_up_upper_l": "mouthUpperUpLeft", "mouth_up_upper_r": "mouthUpperUpRight",
    "mouth_down_lower_l": "mouthLowerDownLeft", "mouth_down_lower_r": "mouthLowerDownRight",
    "mouth_roll_in_upper": "mouthRollUpper", "mouth_roll_in_upper_l": "mouthRollUpper",
    "mouth_roll_in_upper_r": "mouthRollUpper", "mouth_roll_in_lower": "mouthRollLower",
    "mouth_roll_in_lower_l": "mouthRollLower", "mouth_roll_in_lower_r": "mouthRollLower",
    "mouth_funnel_up_l": "mouthFunnel", "mouth_funnel_up_r": "mouthFunnel",
    "mouth_funnel_down_l": "mouthFunnel", "mouth_funnel_down_r": "mouthFunnel",
    "mouth_pucker_up_l": "mouthPucker", "mouth_pucker_up_r": "mouthPucker",
    "mouth_pucker_down_l": "mouthPucker", "mouth_pucker_down_r": "mouthPucker",
    "merged_open_mouth": "jawOpen",
}


def _normalised(name: str) -> str | None:
    """ARKit channel of a name written in another case, with a side suffix, or in snake_case."""
    side = ""
    found = _SIDE.search(name)
    if found and not re.search(r"(left|right)$", name[:found.start()], re.IGNORECASE):
        side, name = _SIDES[found.group(1).lower()], name[:found.start()]
    return _LOWER.get(re.sub(r"[._ -]", "", name).lower() + side)


def arkit_channel(key_name: str) -> str | None:
    """The ARKit channel a shape key stands for, or None."""
    parts = key_name.split("_")
    if len(parts) > 1 and sum(part.lower() in _LOWER for part in parts) >= 2:
        return None  # a corrective of two shapes
    if key_name.lower() in CC4_NAMES:
        return CC4_NAMES[key_name.lower()]
    for candidate in (key_name, re.split(r"[.:|]", key_name)[-1], parts[-1]):
        found = _LOWER.get(candidate.lower()) or _normalised(candidate)
        if found:
            return found
    return None
