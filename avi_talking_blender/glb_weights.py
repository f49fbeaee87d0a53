"""A face's morph-weight animation sampled from the scene and added to a glTF binary the exporter wrote
without animation.

Blender's glTF exporter samples a scene's animation in Python: per frame it steps the scene, then walks
every exported object's transform and every shape key through its caches: under a profiler, most of a
minute of dialogue's export on the demo head. When only the face's shape keys move, their values at each
frame are all the animation holds: stepping the scene and reading them, then writing one weights channel,
gives the exporter's own file (the tests compare the bytes; a channel that never changes the exporter
cuts to its two ends, this keeps every sample) in less time.
"""

from __future__ import annotations

from array import array
from pathlib import Path

from .glb_file import FLOAT, append_floats, floats_at, put_floats, read_glb, whole_as_int, write_glb


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
    time_range = {"max": [whole_as_int(max(times))], "min": [whole_as_int(min(times))]}  # glTF asks it of inputs
    for values, extremes in ((array("f", times), time_range), (weights, {})):
        views.append({"buffer": 0, "byteLength": 4 * len(values), "byteOffset": append_floats(binary, values)})
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
        times = floats_at(binary, start, accessor["count"])
        if not times or abs(max(times) - wrong) > 1e-4 * max(wrong, 1.0):
            continue
        times = array("f", (t * right / wrong for t in times))
        accessor["max"], accessor["min"] = [whole_as_int(max(times))], [whole_as_int(min(times))]
        put_floats(binary, start, times)
        changed = True
    if changed:
        write_glb(path, document, binary)
    return changed
