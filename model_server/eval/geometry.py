"""Vertex geometry to measure motion on: ARKit weights (T, 52) → vertex positions, lips and upper face.

Two heads, both in FLAME's frame (metres, +x the subject's left, +y up, +z out of the face):
- the reference head (assets/reference_head.glb): vertices = base + weights @ deltas; its jawOpen morph
  already rotates the lower face, so the jaw needs nothing more;
- a FLAME-format model: expression = weights @ M (the ARKit → FLAME retarget fitted to the model),
  vertices = template + expression · expression basis, then the jaw pose rotates the jaw-skinned
  vertices about the jaw joint (linear blend skinning; FLAME's pose correctives are left out, they
  are millimetre-small at speech jaw angles). The jaw pose comes from the ARKit weights by the
  mapping every synthesizer uses (synthesis/jaw.py), so predicted and ground-truth motion, which
  are ARKit-only, get their jaw the same way. Without a user's FLAME file the synthetic
  FLAME-format model of the reference head's skin stands in (retarget/synthetic_flame.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..arkit import ARKIT_INDEX, ARKIT_NAMES
from ..config import REFERENCE_HEAD
from ..errors import InputError
from ..retarget.arkit_fields import JAW_SHAPES
from ..retarget.arkit_to_flame import FlameRetarget
from ..retarget.face_frame import FaceLandmarks, landmarks_from_mesh
from ..retarget.flame_model import FlameModel, load_flame_model
from ..retarget.synthetic_flame import synthetic_flame_model
from ..synthesis.jaw import jaw_pose_from_arkit
from .glb import read_glb_mesh

_I = ARKIT_INDEX
SKIN_MATERIALS = ("AVI_skin", "AVI_lips")  # the reference head's outer surface (not eyeballs, teeth, mouth cavity)
# Shapes that move the lips themselves (not the jaw): where they move the mouth's vertices is the lip set.
LIP_SHAPES = ("mouthClose", "mouthFunnel", "mouthPucker", "mouthRollLower", "mouthRollUpper", "mouthShrugLower",
              "mouthShrugUpper", "mouthPressLeft", "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight",
              "mouthUpperUpLeft", "mouthUpperUpRight")
LIP_MOTION_SHARE = 0.2  # a lip vertex moves at least this share of the most-moved mouth vertex


@dataclass
class FaceGeometry:
    name: str
    base: np.ndarray  # (V, 3) metres
    deltas: np.ndarray  # (52, V, 3) displacement per unit ARKit weight (linear part)
    landmarks: FaceLandmarks
    jaw_weights: np.ndarray | None = None  # (V,) jaw skinning weight; None: the jawOpen morph carries the jaw
    jaw_joint: np.ndarray | None = None  # (3,)
    units: str = "m"
    lip_vertices: np.ndarray = field(init=False)  # (L,) indices
    upper_face_vertices: np.ndarray = field(init=False)  # (U,) indices

    def __post_init__(self):
        self.lip_vertices = lip_vertex_set(self.base, self.deltas, self.landmarks)
        self.upper_face_vertices = upper_face_vertex_set(self.base, self.landmarks)

    def vertices(self, arkit: np.ndarray, subset: np.ndarray | None = None) -> np.ndarray:
        """(T, n, 3) positions of the vertices `subset` (all if None) for weights (T, 52)."""
        w = np.asarray(arkit, dtype=np.float64)
        idx = np.arange(len(self.base)) if subset is None else np.asarray(subset)
        out = self.base[idx][None] + np.einsum("tk,kvc->tvc", w, self.deltas[:, idx])
        if self.jaw_weights is not None:
            rotations = axis_angle_matrices(jaw_pose_from_arkit(w))  # (T, 3, 3)
            p = out - self.jaw_joint
            rotated = np.einsum("tij,tvj->tvi", rotations, p)
            out = out + self.jaw_weights[idx][None, :, None] * (rotated - p)
        return out


def axis_angle_matrices(pose: np.ndarray) -> np.ndarray:
    """(T, 3) axis-angle → (T, 3, 3) rotation matrices (Rodrigues)."""
    angle = np.linalg.norm(pose, axis=1)
    axis = pose / np.maximum(angle, 1e-12)[:, None]
    k = np.zeros((len(pose), 3, 3))
    k[:, 0, 1], k[:, 0, 2], k[:, 1, 2] = -axis[:, 2], axis[:, 1], -axis[:, 0]
    k = k - k.transpose(0, 2, 1)
    s, c = np.sin(angle)[:, None, None], np.cos(angle)[:, None, None]
    return np.eye(3)[None] + s * k + (1 - c) * (k @ k)


def lip_vertex_set(base: np.ndarray, deltas: np.ndarray, landmarks: FaceLandmarks) -> np.ndarray:
    """Indices of the lip vertices.

    Choice: the vertices in an ellipse around the mouth (1.1 half mouth widths across, 0.45 up and
    down, about the red of the lips and the skin just beyond, like FLAME's lip mask used by MeshTalk
    and FaceFormer) that the lip shapes (LIP_SHAPES, not the jaw) move by at least LIP_MOTION_SHARE
    of the most-moved vertex there. The motion test drops what sits behind the lips in the ellipse
    (teeth and mouth cavity move only with the jaw) and keeps the result a property of the face
    rig, not of the mesh's density.
    """
    centre = landmarks.mouth_center
    half = np.linalg.norm(landmarks.mouth_left - landmarks.mouth_right) / 2
    d = base - centre
    inside = (d[:, 0] / (1.1 * half)) ** 2 + (d[:, 1] / (0.45 * half)) ** 2 < 1.0
    inside &= d[:, 2] > -0.8 * half  # the front of the face, not the back of the head
    motion = np.linalg.norm(deltas[[_I[n] for n in LIP_SHAPES]], axis=2).max(axis=0)  # (V,)
    if not inside.any() or motion[inside].max() <= 0:
        raise InputError("the face has no vertices that the lip shapes move around the mouth")
    return np.flatnonzero(inside & (motion >= LIP_MOTION_SHARE * motion[inside].max()))


def upper_face_vertex_set(base: np.ndarray, landmarks: FaceLandmarks) -> np.ndarray:
    """Indices of the upper-face vertices (CodeTalker's FDD region: eyes, brows, forehead).

    Choice: the front of the face above the line halfway between the nose tip and the eyes, up to
    1.2 eye distances above the eyes and within 0.9 eye distances of the midline; far from the
    mouth, so lip shapes barely reach it while brow, lid and cheek-raise shapes do.
    """
    eye_y = (landmarks.eye_left[1] + landmarks.eye_right[1]) / 2
    scale = landmarks.eye_distance
    floor = (landmarks.nose_tip[1] + eye_y) / 2
    d = base - landmarks.mouth_center
    upper = (base[:, 1] > floor) & (base[:, 1] < eye_y + 1.2 * scale) & (np.abs(base[:, 0] - landmarks.nose_tip[0]) < 0.9 * scale)
    upper &= d[:, 2] > -1.0 * scale
    return np.flatnonzero(upper)


def reference_head_geometry(path: str | Path = REFERENCE_HEAD) -> FaceGeometry:
    """The reference head: every primitive (skin, lips, eyes, teeth, cavity), morphs in ARKIT_NAMES order."""
    mesh = read_glb_mesh(path)
    order = _arkit_order(mesh.target_names, Path(path).name)
    base = np.concatenate([p.positions for p in mesh.primitives])
    deltas = np.concatenate([p.morph_deltas for p in mesh.primitives], axis=1)[order]
    vertices, faces = _skin(mesh)
    return FaceGeometry("reference head", base, deltas, landmarks_from_mesh(vertices, faces))


def reference_head_skin(path: str | Path = REFERENCE_HEAD) -> tuple[np.ndarray, np.ndarray]:
    """The reference head's outer surface, welded into one mesh: vertices (V, 3), triangles (F, 3)."""
    return _skin(read_glb_mesh(path))


def flame_geometry(model: FlameModel, retarget: FlameRetarget | None = None) -> FaceGeometry:
    """A FLAME-format model driven through the ARKit → FLAME retarget fitted to it."""
    if retarget is None:
        retarget = FlameRetarget.fit(model.v_template, model.expression_basis, model.faces,
                                     {"source": "flame-model", "file": model.source, "sha256": model.sha256})
    deltas = np.einsum("ke,evc->kvc", retarget.matrix, model.expression_basis)  # (52, V, 3)
    deltas[[_I[n] for n in JAW_SHAPES]] = 0.0  # the jaw joint does these
    return FaceGeometry(f"FLAME ({model.source})", model.v_template, deltas, model.landmarks(),
                        jaw_weights=model.jaw_weights, jaw_joint=model.jaw_joint)


def load_flame_geometry(path: str | Path | None = None) -> FaceGeometry:
    """The user's FLAME file if given, else the synthetic FLAME-format model of the reference head's skin."""
    if path is not None:
        return flame_geometry(load_flame_model(path), FlameRetarget.from_flame_model(path))
    vertices, faces = reference_head_skin()
    model = synthetic_flame_model(vertices, faces, landmarks_from_mesh(vertices, faces), source="synthetic-flame-demo-head")
    return flame_geometry(model)


def _arkit_order(names: list[str], source: str) -> list[int]:
    lookup = {n.split(".")[-1].lower(): i for i, n in enumerate(names)}
    missing = [n for n in ARKIT_NAMES if n.lower() not in lookup]
    if missing:
        raise InputError(f"{source}: no morph targets named {', '.join(missing[:5])}{' …' if len(missing) > 5 else ''}")
    return [lookup[n.lower()] for n in ARKIT_NAMES]


def _skin(mesh) -> tuple[np.ndarray, np.ndarray]:
    """Skin primitives welded: glTF duplicates the vertices on material borders (skin | lips)."""
    parts = [p for p in mesh.primitives if p.material in SKIN_MATERIALS] or mesh.primitives
    positions = np.concatenate([p.positions for p in parts])
    offsets = np.cumsum([0] + [len(p.positions) for p in parts])[:-1]
    triangles = np.concatenate([p.triangles + o for p, o in zip(parts, offsets)])
    unique, inverse = np.unique(np.round(positions, 7), axis=0, return_inverse=True)
    return unique, inverse.reshape(-1)[triangles]
