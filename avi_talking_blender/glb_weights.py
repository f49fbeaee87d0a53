"""A face's morph-weight animation sampled from the scene and added to a glTF binary the exporter wrote
without animation.

Blender's glTF exporter samples a scene's animation in Python: per frame it steps the scene, then walks
every exported object's transform and every shape key through its caches. For a minute of dialogue on
the demo head that was two thirds of the export. When only the face's shape keys move, their values at
each frame are all the animation holds: stepping the scene and reading them, then writing one weights
channel, gives the exporter's own file (the tests compare the bytes) in a fraction of the time.
"""

from __future__ import annotations

import json
import struct
import sys
from array import array
from pathlib import Path

FLOAT = 5126  # glTF componentType of 32-bit floats
CHUNK_JSON, CHUNK_BIN = 0x4E4F534A, 0x004E4942


def sampled_weights(scene, obj, names: list[str], first: int, last: int) -> array:
    """The values of the shape keys `names` at each frame first..last, frame by frame, as the scene
    evaluates them (the generated layers and the animator's own tracks alike)."""
    blocks = [obj.data.shape_keys.key_blocks[name] for name in names]
    current = scene.frame_current
    values = array("f")
    try:
        for frame in range(first, last + 1):
            scene.frame_set(frame)
            values.extend(block.value for block in blocks)
    finally:
        scene.frame_set(current)
    return values


def frame_seconds(scene) -> float:
    """Seconds per frame: fps_base turns 30 into 29.97 (30 / 1.001)."""
    return scene.render.fps_base / scene.render.fps


def add_weights_animation(path: Path, scene, obj, first: int, last: int) -> bool:
    """Add `obj`'s morph-weight animation over frames first..last (time 0 at `first`) to the glTF binary
    at `path`; False, leaving the file as it was, when it holds no node of `obj` with morph targets."""
    document, binary = read_glb(path)
    node = next((i for i, n in enumerate(document.get("nodes", []))
                 if n.get("name") == obj.name and "mesh" in n), None)
    names = None if node is None else \
        document["meshes"][document["nodes"][node]["mesh"]].get("extras", {}).get("targetNames")
    if not names or document.get("animations"):
        return False
    step = frame_seconds(scene)
    times = [(frame - first) * step for frame in range(first, last + 1)]
    weights = sampled_weights(scene, obj, names, first, last)
    accessors, views = document.setdefault("accessors", []), document.setdefault("bufferViews", [])
    extremes = {"max": [_number(max(times))], "min": [_number(min(times))]}
    for values, extremes in ((array("f", times), extremes), (weights, {})):
        views.append({"buffer": 0, "byteLength": 4 * len(values), "byteOffset": _append(binary, values)})
        accessors.append({"bufferView": len(views) - 1, "componentType": FLOAT, "count": len(values),
                          **extremes, "type": "SCALAR"})
    document["animations"] = [{"channels": [{"sampler": 0, "target": {"node": node, "path": "weights"}}],
                               "name": obj.name,
                               "samplers": [{"input": len(accessors) - 2, "interpolation": "LINEAR",
                                             "output": len(accessors) - 1}]}]
    document["buffers"][0]["byteLength"] = len(binary)
    write_glb(path, document, binary)
    return True


def correct_exporter_times(path: Path, scene, first: int, last: int) -> bool:
    """Put the exporter's animation times right at rates with an fps_base (29.97 is 30 / 1.001): it divides
    frames by fps × fps_base instead of fps / fps_base, which over a minute of dialogue runs 0.12 s ahead of
    the sound. Applied only where the last time shows that error (an exporter that gets it right is left
    alone); True if the file was changed."""
    base = scene.render.fps_base
    if abs(base - 1.0) < 1e-9:
        return False
    document, binary = read_glb(path)
    inputs = sorted({s["input"] for a in document.get("animations", []) for s in a["samplers"]})
    wrong, right = (last - first) / (scene.render.fps * base), (last - first) * frame_seconds(scene)
    changed = False
    for index in inputs:
        accessor = document["accessors"][index]
        view = document["bufferViews"][accessor["bufferView"]]
        start = view.get("byteOffset", 0)
        times = array("f", binary[start:start + 4 * accessor["count"]])
        if sys.byteorder != "little":
            times.byteswap()
        if not times or abs(max(times) - wrong) > 1e-4 * max(wrong, 1.0):
            continue
        times = array("f", (t * right / wrong for t in times))
        accessor["max"], accessor["min"] = [_number(max(times))], [_number(min(times))]
        if sys.byteorder != "little":
            times.byteswap()
        binary[start:start + 4 * len(times)] = times.tobytes()
        changed = True
    if changed:
        write_glb(path, document, binary)
    return changed


def _number(value: float) -> float | int:
    """A whole number as an int, as the exporter writes them (glTF validators flag 0.0 for 0)."""
    return int(value) if value == int(value) else value


def _append(binary: bytearray, values: array) -> int:
    """Append little-endian floats at a 4-byte boundary; their offset."""
    binary.extend(b"\0" * (-len(binary) % 4))
    offset = len(binary)
    if sys.byteorder != "little":
        values = array("f", values)
        values.byteswap()
    binary.extend(values.tobytes())
    return offset


def read_glb(path: Path) -> tuple[dict, bytearray]:
    data = Path(path).read_bytes()
    magic, version, _ = struct.unpack_from("<III", data, 0)
    json_length, json_kind = struct.unpack_from("<II", data, 12)
    if (magic, version, json_kind) != (0x46546C67, 2, CHUNK_JSON):
        raise ValueError(f"{path} is not a glTF 2.0 binary")
    document = json.loads(data[20:20 + json_length])
    binary = bytearray()
    if len(data) > 20 + json_length:
        bin_length, _ = struct.unpack_from("<II", data, 20 + json_length)
        binary = bytearray(data[28 + json_length:28 + json_length + bin_length])
    return document, binary


# The exporter's order of a document's top-level entries; inside them, keys are sorted.
TOP_LEVEL = ("asset", "extensionsUsed", "extensionsRequired", "extensions", "extras", "scene", "scenes", "nodes",
             "cameras", "animations", "materials", "meshes", "textures", "images", "skins", "accessors",
             "bufferViews", "samplers", "buffers")


def write_glb(path: Path, document: dict, binary: bytearray) -> None:
    """The document and binary as a GLB, laid out as Blender's exporter lays them out."""
    ordered = {key: document[key] for key in sorted(document, key=lambda k: TOP_LEVEL.index(k) if k in TOP_LEVEL
                                                    else len(TOP_LEVEL))}
    text = json.dumps(ordered, separators=(",", ":"), allow_nan=False).encode()
    text += b" " * (-len(text) % 4)
    binary = bytes(binary) + b"\0" * (-len(binary) % 4)
    total = 12 + 8 + len(text) + (8 + len(binary) if binary else 0)
    with open(path, "wb") as out:
        out.write(struct.pack("<III", 0x46546C67, 2, total))
        out.write(struct.pack("<II", len(text), CHUNK_JSON) + text)
        if binary:
            out.write(struct.pack("<II", len(binary), CHUNK_BIN) + binary)
