"""Runs inside Blender 4.2 LTS (bpy==4.2.0): install the extension, write keys, add the demo head.

Called by test_blender_4_2.py as `python blender_4_2_check.py EXTENSION.zip`; prints one JSON line.
(The bpy 4.2 wheel has no audio support, so no sound strip here: the writer gets a curves document.)
"""

import json
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
os.environ["BLENDER_USER_RESOURCES"] = tempfile.mkdtemp(prefix="avi-blender-4.2-")
sys.path[:0] = [str(REPO / "scripts"), str(REPO)]

import bpy  # noqa: E402

from model_server.arkit import ARKIT_NAMES  # noqa: E402
from model_server.curves import build_curves  # noqa: E402
from run_demo import install_extension  # noqa: E402

bpy.ops.wm.read_factory_settings(use_empty=True)
install_extension(bpy, Path(sys.argv[1]))
from bl_ext.user_default.avi_talking_blender.curves_writer import apply_curves  # noqa: E402

scene = bpy.context.scene
scene.render.fps, scene.render.fps_base = 30, 1.001
bpy.ops.avi_talking.add_demo_head()
head = scene.avi_talking.target
block = head.data.shape_keys.key_blocks["browInnerUp"]
block.value = 0.5
block.keyframe_insert("value", frame=2)
previous = head.data.shape_keys.animation_data.action

frames = 40
weights = [[0.0] * 52 for _ in range(frames)]
for i in range(frames):
    weights[i][ARKIT_NAMES.index("jawOpen")] = i / (frames - 1)
curves = build_curves(fps=30 / 1.001, arkit_weights=weights, flame_expression=[[0.0] * 50] * frames,
                      flame_jaw=[[0.0] * 3] * frames, instruction="", segments=[], transcript="", phones=[],
                      model={})
action = apply_curves(scene, head, curves, start_frame=101, action_name="AVI_line")[0]
scene.frame_set(121)
jaw_single = head.data.shape_keys.key_blocks["jawOpen"].value

# The same line as NLA layers (lips carries the jaw, expression a brow), keyed as key poses.
bpy.ops.avi_talking.add_demo_head()
layered = scene.avi_talking.target
zero = [[0.0] * 52 for _ in range(frames)]
brow = [[0.3 if n == ARKIT_NAMES.index("browInnerUp") else 0.0 for n in range(52)] for _ in range(frames)]
both = [[a + b for a, b in zip(x, y)] for x, y in zip(weights, brow)]
layered_curves = build_curves(fps=30 / 1.001, arkit_weights=both, flame_expression=[[0.0] * 50] * frames,
                              flame_jaw=[[0.0] * 3] * frames, instruction="", segments=[], transcript="",
                              phones=[], model={})
layered_curves["arkit"]["layers"] = {"lips": weights, "expression": brow, "blinks": zero}
layered_curves["flame"]["layers"] = {name: {"expression": [[0.0] * 50] * frames, "jaw": [[0.0] * 3] * frames}
                                     for name in ("lips", "expression", "blinks")}
scene.avi_talking.key_density = "POSES"
apply_curves(scene, layered, layered_curves, start_frame=101, action_name="AVI_layered", line="line",
             layers=("lips", "expression", "blinks"))
scene.frame_set(121)
blocks = layered.data.shape_keys.key_blocks

# Exports without deforming each frame write what the exporters write when they do.
from bl_ext.user_default.avi_talking_blender.operators import export  # noqa: E402

from bl_ext.user_default.avi_talking_blender.glb_file import read_glb  # noqa: E402

scene.avi_talking.target = layered
exports_differ = {}
with tempfile.TemporaryDirectory() as folder:
    # At 30 fps exactly: at 29.97 the fast glTF puts right the exporter's times (the next check).
    scene.render.fps_base = 1.0
    for file_format in ("GLB", "FBX"):
        target, generated = export.animated_face(scene)
        fast, reference = Path(folder) / f"fast.{file_format}", Path(folder) / f"reference.{file_format}"
        export.export_face(bpy.context, target, generated, fast, file_format)
        export.export_face(bpy.context, target, generated, reference, file_format, deform_each_frame=True)
        a, b = fast.read_bytes(), reference.read_bytes()
        exports_differ[file_format] = [len(a), len(b), [i for i, (x, y) in enumerate(zip(a, b)) if x != y]]
    scene.render.fps_base = 1.001
    target, generated = export.animated_face(scene)
    export.export_face(bpy.context, target, generated, Path(folder) / "ntsc.glb", "GLB")
    document, _ = read_glb(Path(folder) / "ntsc.glb")
    glb_times = [[document["accessors"][s["input"]]["max"][0], generated[1] - generated[0]]
                 for a in document["animations"] for s in a["samplers"]]
print(json.dumps({
    "exports_differ": exports_differ,
    "glb_times": glb_times,
    "version": bpy.app.version_string,
    "keys": len(head.data.shape_keys.key_blocks) - 1,
    "jaw_at_121": head.data.shape_keys.key_blocks["jawOpen"].value,
    "action": action.name,
    "fcurves": len(action.fcurves),
    "previous_kept": previous.name in bpy.data.actions and previous.use_fake_user,
    "jaw_single_at_121": jaw_single,
    "layered_at_121": {"jawOpen": blocks["jawOpen"].value, "browInnerUp": blocks["browInnerUp"].value},
    "layer_tracks": [t.name for t in layered.data.shape_keys.animation_data.nla_tracks],
    "pose_keys": sum(len(fc.keyframe_points) for t in layered.data.shape_keys.animation_data.nla_tracks
                     for st in t.strips if t.name != "AVI rest" for fc in st.action.fcurves),
}))
sys.stdout.flush()
# The bpy 4.2 module crashes in its own interpreter-exit teardown once the glTF importer has run
# (segfault after everything above completed); leave without that teardown.
os._exit(0)
