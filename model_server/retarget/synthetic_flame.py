"""A synthetic FLAME-format model built from any head mesh, for tests and for evaluation without FLAME.

Real FLAME files are licensed and never ship with this project. This model follows their layout
(v_template, shapedirs V×3×(shape + 100 expression), posedirs, J_regressor, weights, kintree_table,
f) so every FLAME code path runs on it:
- expression: 50 random mixtures of the ARKit displacement fields (arkit_fields.py) evaluated on the
  head, each scaled to 1 cm in norm, so the ARKit → FLAME retarget can fit them almost exactly;
  the other 50 expression directions are small noise, the identity directions zero;
- jaw: the front half of the head below the mouth is skinned to the jaw joint (weight 1), the rest
  to the neck; the jaw joint sits 3 cm above the mouth line, regressed from the vertices there.
"""

from __future__ import annotations

import numpy as np

from ..arkit import ARKIT_INDEX, ARKIT_NAMES, FLAME_EXPRESSION_DIM
from .arkit_fields import JAW_SHAPES, arkit_displacements
from .face_frame import FaceLandmarks
from .flame_model import FLAME_EXPRESSION_COMPONENTS, FLAME_SHAPE_COMPONENTS, FlameModel, flame_model_from_arrays

JOINTS = 5  # global, neck, jaw, left eye, right eye
EXPRESSION_NORM = 0.01  # metres: each expression direction's displacement norm


def synthetic_flame_arrays(vertices: np.ndarray, faces: np.ndarray, landmarks: FaceLandmarks, *, seed: int = 0,
                           shape_components: int = FLAME_SHAPE_COMPONENTS) -> dict:
    """The FLAME file's dictionary of arrays for a head (vertices (V, 3) in metres, FLAME's frame)."""
    vertices = np.asarray(vertices, dtype=np.float64)
    rng = np.random.default_rng(seed)
    fields = arkit_displacements(vertices, landmarks)
    moving = [ARKIT_INDEX[n] for n in ARKIT_NAMES if n not in JAW_SHAPES and np.abs(fields[ARKIT_INDEX[n]]).max() > 0]
    basis_fields = fields[moving]  # (M, V, 3)
    mix = rng.normal(size=(FLAME_EXPRESSION_DIM, len(moving)))
    expression = np.einsum("km,mvc->kvc", mix, basis_fields)
    expression /= np.linalg.norm(expression.reshape(FLAME_EXPRESSION_DIM, -1), axis=1)[:, None, None] / EXPRESSION_NORM
    extra = rng.normal(scale=1e-4, size=(FLAME_EXPRESSION_COMPONENTS - FLAME_EXPRESSION_DIM, *vertices.shape))
    shapedirs = np.concatenate([np.zeros((shape_components, *vertices.shape)), expression, extra]).transpose(1, 2, 0)
    v = len(vertices)
    weights = np.zeros((v, JOINTS))
    jaw = (vertices[:, 1] < landmarks.mouth_center[1]) & (vertices[:, 2] > 0)
    weights[jaw, 2] = 1.0
    weights[~jaw, 1] = 1.0
    regressor = np.zeros((JOINTS, v))
    regressor[2, np.argsort(np.abs(vertices[:, 1] - landmarks.mouth_center[1] - 0.03))[:8]] = 1 / 8
    regressor[[0, 1, 3, 4], 0] = 1.0
    return {
        "v_template": vertices, "shapedirs": shapedirs.astype(np.float32), "posedirs": np.zeros((v, 3, 36), np.float32),
        "J_regressor": regressor, "weights": weights, "kintree_table": np.array([[2**32 - 1, 0, 1, 1, 1], [0, 1, 2, 3, 4]]),
        "f": np.asarray(faces, dtype=np.int64),
    }


def synthetic_flame_model(vertices: np.ndarray, faces: np.ndarray, landmarks: FaceLandmarks, *, seed: int = 0,
                          source: str = "synthetic-flame") -> FlameModel:
    """The same model loaded in memory (no identity directions stored: they are zero anyway)."""
    arrays = synthetic_flame_arrays(vertices, faces, landmarks, seed=seed, shape_components=0)
    return flame_model_from_arrays(arrays, source=source, sha256=f"{source}-seed{seed}", shape_components=0)
