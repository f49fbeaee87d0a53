"""Takes kept in the .blend: the curves of each take of a Generate, one Text datablock per take.

A Generate with several takes keys take 1 and keeps them all, listed on the Scene
(`avi_talking.takes`: strip, take number, seed, face, Text); the strip's earlier takes are dropped.
Use Take reads a take back and keys it through the same writer as Generate.
"""

from __future__ import annotations

import json

import bpy

from .formats import CurvesFormatError, validate_curves


def replace_takes(settings, strip: str, face: bpy.types.Object, takes: list[dict], first_seed: int) -> None:
    """Keep `takes` (take 1 first, already keyed) as the takes of `strip`, dropping its earlier ones."""
    drop_takes(settings, strip)
    if len(takes) < 2:
        return  # a single take is the Action itself: nothing to choose from
    for number, curves in enumerate(takes, start=1):
        text = bpy.data.texts.new(f"AVI_{strip}_take{number}.json")
        text.from_string(json.dumps(curves, separators=(",", ":")))
        take = settings.takes.add()
        take.number, take.strip, take.face, take.curves_text = number, strip, face, text
        take.seed = curves.get("model", {}).get("take", {}).get("seed", first_seed + number - 1)
        take.in_use = number == 1


def drop_takes(settings, strip: str) -> None:
    for index in reversed(range(len(settings.takes))):
        take = settings.takes[index]
        if take.strip == strip:
            text = take.curves_text
            settings.takes.remove(index)
            if text is not None:
                bpy.data.texts.remove(text)


def read_take(take) -> dict:
    """The curves document of a kept take; ValueError (with what to do) if it cannot be read."""
    if take.curves_text is None:
        raise CurvesFormatError(f"take {take.number} of '{take.strip}' lost its curves Text: generate again")
    try:
        curves = json.loads(take.curves_text.as_string())
        validate_curves(curves)
    except (json.JSONDecodeError, CurvesFormatError) as err:
        raise CurvesFormatError(f"the curves Text of take {take.number} ('{take.curves_text.name}') was edited "
                                f"and no longer reads as curves ({err}): generate again") from err
    return curves


def mark_in_use(settings, index: int) -> None:
    chosen = settings.takes[index]
    for i, take in enumerate(settings.takes):
        if take.strip == chosen.strip:
            take.in_use = i == index
