"""Measure the demo head for holes and self-intersection under every ARKit shape and under real takes.

    python scripts/check_demo_head.py [--head assets/demo_head.glb] [--curves take.json ...] [--json OUT]

For each pose (the rest pose, each of the 52 shapes alone at 1.0 and at 0.5, and the frames of each curves file
where some channel peaks) it reports:
- crossings: pairs of faces that pass through each other (faces sharing a vertex are not counted);
- inside_seen: rays from the front that first meet the back of a face: the viewer would see the
  inside of the skin through a fold;
- mouth_seen: rays over the mouth that reach the inside of the mouth (bag, teeth, tongue), against
  the rest pose: a shape that should keep the lips closed must not open a hole;
- eye_seen: rays over each eye opening that reach the eyeball (a blink must cover it).
Runs in Blender's Python (the bpy module); prints a table and, with --json, writes every figure.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import bpy  # noqa: E402
import numpy as np  # noqa: E402
from mathutils import Vector  # noqa: E402
from mathutils.bvhtree import BVHTree  # noqa: E402

from model_server.arkit import ARKIT_NAMES  # noqa: E402

INSIDE = ("AVI_mouth", "AVI_teeth", "AVI_tongue")  # what a closed mouth hides
SURFACE = ("AVI_skin", "AVI_lips", "AVI_mouth")  # one closed surface: only its front side may be seen
EYEBALL = ("AVI_eye_white", "AVI_iris", "AVI_pupil")
RAY_STEP = 0.0008  # metres between rays
EVERY_NTH_FRAME = 10  # poses per curves file: where each channel peaks, and every tenth frame


def load_head(path: Path):
    """Basis (V, 3), shape-key offsets (52, V, 3) in ARKit order, polygons and their material names."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.import_scene.gltf(filepath=str(path))
    head = next(o for o in bpy.data.objects if o.type == "MESH")
    keys = head.data.shape_keys.key_blocks

    def co(key):
        a = np.zeros(len(key.data) * 3, np.float32)
        key.data.foreach_get("co", a)
        return a.reshape(-1, 3).astype(np.float64)

    basis = co(keys[0])
    offsets = np.stack([co(keys[name]) - basis for name in ARKIT_NAMES])
    # glTF splits the mesh per material, duplicating the vertices on each border: weld them back, or
    # neighbouring faces across a border would count as crossing each other.
    _, first, weld = np.unique(np.round(basis, 7), axis=0, return_index=True, return_inverse=True)
    weld = first[weld.ravel()]
    polygons = [tuple(int(weld[i]) for i in p.vertices) for p in head.data.polygons]
    materials = [head.data.materials[p.material_index].name for p in head.data.polygons]
    return basis, offsets, polygons, materials


def poses(curves: list[Path]) -> list[tuple[str, np.ndarray]]:
    """(label, weights (52,)) for the rest pose, each shape alone and the peak frames of each take."""
    out = [("rest", np.zeros(len(ARKIT_NAMES)))]
    for i, name in enumerate(ARKIT_NAMES):
        w = np.zeros(len(ARKIT_NAMES))
        w[i] = 1.0
        if name == "mouthClose":  # closes the lips against jawOpen; alone it means nothing
            w[ARKIT_NAMES.index("jawOpen")] = 1.0
            name = "mouthClose+jawOpen"
        out.append((name, w))
        out.append((f"{name} at half", w / 2))  # a shape key moves in a straight line: check its middle too
    for path in curves:
        arkit = json.loads(path.read_text())["arkit"]
        order = [arkit["names"].index(n) for n in ARKIT_NAMES]
        weights = np.asarray(arkit["weights"], dtype=np.float64)[:, order]
        frames = set(np.argmax(weights, axis=0).tolist()) | set(range(0, len(weights), EVERY_NTH_FRAME))
        for frame in sorted(frames):
            out.append((f"{path.stem}@{frame}", np.clip(weights[frame], 0, 1)))
    return out


class Rays:
    """A grid of rays along +Y (Blender's front view looks at the face from −Y)."""

    def __init__(self, basis: np.ndarray, materials: list[str], polygons):
        self.materials = materials
        skin = [i for i, m in enumerate(materials) if m in ("AVI_skin", "AVI_lips")]
        used = np.unique(np.concatenate([polygons[i] for i in skin]))
        front = basis[used]
        mouth = front[np.abs(front[:, 0]) < 0.03]
        self.y0 = basis[:, 1].min() - 0.05
        self.mouth_box = self._box(basis, materials, polygons, ("AVI_lips",), margin=0.004)
        self.eye_boxes = [self._box(basis, materials, polygons, EYEBALL, margin=0.002, side=s) for s in (1, -1)]
        self.face_box = (front[:, 0].min(), front[:, 0].max(), mouth[:, 2].min(), front[:, 2].max())

    @staticmethod
    def _box(basis, materials, polygons, names, margin, side=0):
        points = basis[np.unique(np.concatenate([polygons[i] for i, m in enumerate(materials) if m in names]))]
        if side:
            points = points[np.sign(points[:, 0]) == side]
        points = points[points[:, 1] < np.percentile(points[:, 1], 30) + 0.004]  # the front of it
        return (points[:, 0].min() - margin, points[:, 0].max() + margin,
                points[:, 2].min() - margin, points[:, 2].max() + margin)

    def cast(self, tree: BVHTree, box) -> list[tuple[str, bool]]:
        """(material hit, whether the ray met the face's back) per ray in the box; misses left out."""
        x0, x1, z0, z1 = box
        hits = []
        for x in np.arange(x0, x1, RAY_STEP):
            for z in np.arange(z0, z1, RAY_STEP):
                location, normal, index, _ = tree.ray_cast(Vector((x, self.y0, z)), Vector((0, 1, 0)))
                if index is not None:
                    hits.append((self.materials[index], normal.y > 0))
        return hits


def measure(basis, offsets, polygons, materials, weights, rays: Rays) -> dict:
    vertices = basis + np.einsum("k,kvc->vc", weights, offsets)
    tree = BVHTree.FromPolygons(vertices.tolist(), polygons, epsilon=0.0)
    crossings = tree.overlap(tree)
    face = rays.cast(tree, rays.face_box)
    mouth = rays.cast(tree, rays.mouth_box)
    eyes = [rays.cast(tree, box) for box in rays.eye_boxes]
    pairs = sorted({tuple(sorted((materials[a], materials[b]))) for a, b in crossings})
    return {"crossings": len(crossings) // 2, "crossing_parts": ["/".join(p) for p in pairs],
            "inside_seen": sum(back for m, back in face + mouth if m in SURFACE),
            "mouth_seen": sum(m in INSIDE for m, _ in mouth),
            "eye_seen": [sum(m in EYEBALL for m, _ in e) for e in eyes]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--head", type=Path, default=REPO / "assets" / "demo_head.glb")
    parser.add_argument("--curves", type=Path, nargs="*", default=[], help="curves files (animate -o) to take poses from")
    parser.add_argument("--json", type=Path, help="write every pose's figures here")
    args = parser.parse_args()
    basis, offsets, polygons, materials = load_head(args.head)
    rays = Rays(basis, materials, polygons)
    results = {}
    print(f"{'pose':28s} {'crossings':>9s} {'inside seen':>11s} {'mouth seen':>10s} {'eyeballs seen':>13s}")
    for label, weights in poses(args.curves):
        r = measure(basis, offsets, polygons, materials, weights, rays)
        results[label] = r
        print(f"{label:28s} {r['crossings']:9d} {r['inside_seen']:11d} {r['mouth_seen']:10d} "
              f"{r['eye_seen'][0]:6d} {r['eye_seen'][1]:6d}  {' '.join(r['crossing_parts'])}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
