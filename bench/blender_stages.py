"""Blender half of the benchmark (own process: bpy is imported once per process).

    python bench/blender_stages.py CURVES.json   → prints one JSON line: [[stage, seconds or text], ...]
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "scripts"), str(REPO)]
os.environ["BLENDER_USER_RESOURCES"] = tempfile.mkdtemp(prefix="avi-bench-blender-")

import bpy  # noqa: E402

from build_extension import build  # noqa: E402
from run_demo import install_extension  # noqa: E402

EXPORT_REPEATS = 3  # the median is printed; the first export also loads the exporter


def flame_rig() -> bpy.types.Object:
    """A mesh with FLAME's 50 expression keys under an armature with a jaw bone (53 curves)."""
    mesh = bpy.data.meshes.new("FLAME-generic")
    mesh.from_pydata([(0, 0, 0), (0.01, 0, 0), (0, 0, 0.01)], [], [(0, 1, 2)])
    obj = bpy.data.objects.new("FLAME-generic", mesh)
    armature = bpy.data.objects.new("rig", bpy.data.armatures.new("rig"))
    for item in (armature, obj):
        bpy.context.scene.collection.objects.link(item)
    bpy.context.view_layer.objects.active = armature
    bpy.ops.object.mode_set(mode="EDIT")
    bone = armature.data.edit_bones.new("jaw")
    bone.tail = (0, 0, 0.01)
    bpy.ops.object.mode_set(mode="OBJECT")
    obj.parent = armature
    obj.shape_key_add(name="Basis")
    for k in range(1, 51):
        obj.shape_key_add(name=f"Exp{k}")
    return obj


def key_count(action) -> int:
    bags = [s.channelbag(slot) for layer in action.layers for s in layer.strips for slot in action.slots] \
        if hasattr(action, "layers") else [action]
    return sum(len(fc.keyframe_points) for bag in bags if bag is not None for fc in bag.fcurves)


def main() -> None:
    curves = json.loads(Path(sys.argv[1]).read_text())
    bpy.ops.wm.read_factory_settings(use_empty=True)
    install_extension(bpy, build(Path(tempfile.mkdtemp())))
    from bl_ext.user_default.avi_talking_blender.curves_writer import apply_curves

    scene = bpy.context.scene
    scene.render.fps = int(curves["fps"])
    bpy.ops.avi_talking.add_demo_head()
    head = scene.avi_talking.target
    rows = []
    start = time.perf_counter()
    apply_curves(scene, head, curves, start_frame=1, action_name="AVI_bench")
    rows.append(["curves → keyframes, 52 ARKit curves (demo head)", time.perf_counter() - start])
    dense_keys = key_count(head.data.shape_keys.animation_data.action)
    bpy.ops.avi_talking.add_demo_head()
    posed = scene.avi_talking.target
    scene.avi_talking.key_density = "POSES"
    start = time.perf_counter()
    apply_curves(scene, posed, curves, start_frame=1, action_name="AVI_bench_poses")
    seconds = time.perf_counter() - start
    pose_keys = key_count(posed.data.shape_keys.animation_data.action)
    rows.append(["curves → key poses, 52 ARKit curves (within 0.02)", seconds])
    rows.append(["key poses: keys kept of the dense keys", f"{pose_keys} of {dense_keys} ({dense_keys / pose_keys:.1f}× fewer)"])
    scene.avi_talking.key_density = "FRAMES"
    bpy.data.objects.remove(posed)  # the exports below evaluate the scene: one head in it, as before
    rig = flame_rig()
    start = time.perf_counter()
    # A line of its own: one line keeps one result (release_line), and the demo head's is exported below.
    apply_curves(scene, rig, curves, start_frame=1, action_name="AVI_bench_flame")
    rows.append(["curves → keyframes, 53 FLAME curves (50 Exp + jaw bone)", time.perf_counter() - start])
    scene.avi_talking.target = head
    with tempfile.TemporaryDirectory() as out:
        for fmt in ("GLB", "FBX"):
            seconds = []
            for _ in range(EXPORT_REPEATS):
                start = time.perf_counter()
                bpy.ops.avi_talking.export_animation(filepath=str(Path(out) / f"bench.{fmt.lower()}"), format=fmt)
                seconds.append(time.perf_counter() - start)
            rows.append([f"export {fmt} (demo head, {len(head.data.vertices) // 1000}k vertices, 52 keys)",
                         statistics.median(seconds)])
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
