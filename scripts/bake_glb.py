"""Bake curves files onto a face in Blender and export each as a .glb (morph-target weights).

    python scripts/bake_glb.py --rig demo|RIG.blend [--face OBJECT] -o OUT_DIR CURVES.json [...]

Run with a Python that has bpy (the dev environment), or as `blender -b --python scripts/bake_glb.py -- …`.
--rig demo bakes onto the bundled demo head; a .blend is opened fresh for each file and its face is
--face, else the face the file's AVI-Talking panel names, else the one mesh with ARKit or FLAME keys.
Each file is written as OUT_DIR/<curves stem>.glb, whole or not at all. One JSON line per curves file
goes to stdout: {"curves": path, "glb": path} or {"curves": path, "error": message}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "scripts"), str(REPO)]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rig", required=True, help="demo, or a .blend file with the face")
    parser.add_argument("--face", help="the face object's name in the .blend")
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("curves", type=Path, nargs="+")
    args = parser.parse_args(argv)
    os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="avi-bake-blender-"))
    import bpy

    from build_extension import build
    from model_server.curves import CurvesFormatError, load_curves
    from run_demo import install_extension

    bpy.ops.wm.read_factory_settings(use_empty=True)
    install_extension(bpy, build(Path(tempfile.mkdtemp(prefix="avi-bake-"))))
    from bl_ext.user_default.avi_talking_blender.operators.export import export_face, animated_face
    from bl_ext.user_default.avi_talking_blender.curves_writer import apply_curves
    from bl_ext.user_default.avi_talking_blender.targets import TargetError, find_target

    args.output.mkdir(parents=True, exist_ok=True)
    failures = 0
    for path in args.curves:
        glb = args.output / f"{path.stem}.glb"
        try:
            curves = load_curves(path)
            face = _open_face(bpy, args.rig, args.face, find_target, TargetError)
            scene = bpy.context.scene
            scene.render.fps, scene.render.fps_base = _fps(curves["fps"])
            scene.avi_talking.target = face
            apply_curves(scene, face, curves, start_frame=1, action_name=path.stem)
            # A new file of our own in the folder (never a name a link could have been planted at, in a
            # shared output folder), renamed over the glb: the rename replaces a link instead of following it.
            handle, name = tempfile.mkstemp(dir=args.output, prefix=f".{glb.stem}.", suffix=".partial.glb")
            os.close(handle)
            partial = Path(name)
            target, frames = animated_face(scene)
            try:
                export_face(bpy.context, target, frames, partial, "GLB")
                os.replace(partial, glb)
            finally:
                partial.unlink(missing_ok=True)
            print(json.dumps({"curves": str(path), "glb": str(glb)}), flush=True)
        except (CurvesFormatError, TargetError, OSError, RuntimeError, ValueError) as exc:
            failures += 1
            print(json.dumps({"curves": str(path), "error": f"{type(exc).__name__}: {exc}"}), flush=True)
    sys.stdout.flush()
    os._exit(1 if failures else 0)  # bpy's own teardown can crash after the glTF importer ran


def _open_face(bpy, rig: str, face_name: str | None, find_target, TargetError):
    if rig == "demo":
        bpy.ops.wm.read_homefile(use_empty=True)
        bpy.ops.avi_talking.add_demo_head()
        return bpy.context.scene.avi_talking.target
    if bpy.ops.wm.open_mainfile(filepath=str(Path(rig).resolve()), load_ui=False) != {"FINISHED"}:
        raise OSError(f"cannot open {rig}")
    scene = bpy.context.scene
    if face_name:
        if face_name not in bpy.data.objects:
            raise TargetError(f"{Path(rig).name} has no object named {face_name!r}")
        return bpy.data.objects[face_name]
    if getattr(scene, "avi_talking", None) is not None and scene.avi_talking.target is not None:
        return scene.avi_talking.target
    faces = []
    for obj in scene.objects:
        try:
            faces.append(find_target(obj).obj)
        except TargetError:
            continue
    if len(faces) != 1:
        raise TargetError(f"{Path(rig).name}: {len(faces)} meshes with ARKit or FLAME keys; name one with --face")
    return faces[0]


def _fps(fps: float) -> tuple[int, float]:
    """Blender's (fps, fps_base) for a rate: 29.97 is 30 / 1.001."""
    whole = round(fps)
    return (whole, 1.0) if abs(whole - fps) < 1e-6 else (whole, whole / fps)


if __name__ == "__main__":
    main(sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else sys.argv[1:])
