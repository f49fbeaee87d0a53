"""ARKit articulation → FLAME's 50 expression coefficients + 3 jaw pose, fitted to the user's FLAME.

How: the ARKit fields (arkit_fields.py) are evaluated on FLAME's template; each field's displacement
is fitted by FLAME's expression basis with ridge least squares, weighted to the face (scalp and neck
count 5 %), giving a 52×50 matrix M: expression = arkit @ M. FLAME opens
the mouth with its jaw joint, so the jaw shapes (jawOpen, jawLeft, jawRight, jawForward) map to the
jaw pose, which passes through unchanged (axis-angle radians, +x opens).

Without a FLAME model (`FlameRetarget.default()`): expression is all zeros and only the jaw pose
carries motion. That is the one FLAME curve that needs no licensed basis; docs/curves-format.md says so.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import numpy as np

from ..arkit import ARKIT_INDEX, ARKIT_NAMES, FLAME_EXPRESSION_DIM
from ..errors import InputError
from .arkit_fields import JAW_SHAPES, arkit_displacements, face_weights
from .face_frame import landmarks_from_mesh
from .flame_model import load_flame_model

MIN_FACE_VERTICES = 100  # fewer cannot carry the mouth and eyes the fit measures (FLAME has 5023)
RIDGE = 1e-3  # relative to the basis energy: keeps coefficients small where the fit is ambiguous
_CACHE: dict[str, "FlameRetarget"] = {}
_CACHE_LOCK = threading.Lock()


class FlameRetarget:
    """ARKit weights (T, 52) + jaw pose (T, 3) → FLAME expression (T, 50) + jaw pose (T, 3).

    - `from_flame_model(path)`: fitted to the user's FLAME file (.pkl or .npz); cached per file hash.
    - `from_expression_basis(vertices, basis)`: fitted to a FLAME mesh's Exp shape keys (key − basis).
    - `default()`: no FLAME model: the expression coefficients are all zeros and the jaw pose passes
      through unchanged, so a FLAME head only opens and closes its jaw.
    In every case the jaw pose passes through unchanged (axis-angle in radians, positive x opens) and
    the ARKit jaw shapes (jawOpen, jawLeft, jawRight, jawForward) give no expression coefficients.
    `info` says where the matrix came from: source ("flame-model", "mesh-shape-keys", "default"),
    the sha256 of the file or of the basis, and the fit's relative residual on the face.
    """

    def __init__(self, matrix: np.ndarray, info: dict):
        self.matrix = matrix  # (52, 50)
        self.info = info

    @classmethod
    def default(cls) -> "FlameRetarget":
        return cls(np.zeros((len(ARKIT_NAMES), FLAME_EXPRESSION_DIM)),
                   {"source": "default", "id": "default",
                    "meaning": "no FLAME model given: expression is zero, jaw pose carries the mouth opening"})

    @classmethod
    def from_flame_model(cls, path: str | Path) -> "FlameRetarget":
        model = load_flame_model(path)
        with _CACHE_LOCK:
            if model.sha256 in _CACHE:
                return _CACHE[model.sha256]
        retarget = cls.fit(model.v_template, model.expression_basis, model.faces,
                           {"source": "flame-model", "file": model.source, "sha256": model.sha256})
        with _CACHE_LOCK:
            _CACHE[model.sha256] = retarget
        return retarget

    @classmethod
    def from_expression_basis(cls, vertices: np.ndarray, expression_basis: np.ndarray,
                              faces: np.ndarray | None = None) -> "FlameRetarget":
        """From a FLAME mesh in a scene: its basis vertices and Exp1..Exp50 shape keys (key − basis)."""
        vertices = np.asarray(vertices, dtype=np.float64)
        basis = np.asarray(expression_basis, dtype=np.float64)
        if basis.ndim != 3 or basis.shape[1:] != vertices.shape or basis.shape[0] < 1:
            raise InputError(f"expression basis must be (K, V, 3) matching vertices {vertices.shape}, got {basis.shape}")
        digest = hashlib.sha256(vertices.astype("<f4").tobytes() + basis.astype("<f4").tobytes()).hexdigest()
        if basis.shape[0] < FLAME_EXPRESSION_DIM:  # fewer keys than FLAME's 50: the rest stay zero
            basis = np.concatenate([basis, np.zeros((FLAME_EXPRESSION_DIM - basis.shape[0], *vertices.shape))])
        return cls.fit(vertices, basis[:FLAME_EXPRESSION_DIM], faces,
                       {"source": "mesh-shape-keys", "sha256": digest})

    @classmethod
    def fit(cls, vertices: np.ndarray, expression_basis: np.ndarray, faces: np.ndarray | None, info: dict) -> "FlameRetarget":
        check_face_mesh(vertices, expression_basis)
        try:
            landmarks = landmarks_from_mesh(vertices, faces)
        except (ValueError, IndexError) as exc:
            raise InputError("cannot find a face on this mesh (it must be upright, facing +z, with a nose, "
                             "mouth and eyes)") from exc
        targets = arkit_displacements(vertices, landmarks).reshape(len(ARKIT_NAMES), -1)  # (52, 3V)
        weight = np.repeat(face_weights(vertices, landmarks), 3)  # (3V,) per coordinate
        basis = expression_basis.reshape(expression_basis.shape[0], -1).T  # (3V, 50)
        gram = basis.T @ (weight[:, None] * basis)
        ridge = RIDGE * np.trace(gram) / gram.shape[0]
        solve = np.linalg.solve(gram + ridge * np.eye(gram.shape[0]), (weight[:, None] * basis).T)  # (50, 3V)
        matrix = targets @ solve.T  # (52, 50)
        for name in JAW_SHAPES:
            matrix[ARKIT_INDEX[name]] = 0.0
        residual = fit_residuals(matrix, basis, targets, weight)
        values = np.array(list(residual.values()))
        info = dict(info, id=info["sha256"], fit_relative_residual=round(float(np.median(values)), 4),
                    fit_relative_residual_max=round(float(values.max()), 4),
                    worst_fitted_shape=max(residual, key=residual.get))
        return cls(matrix, info)

    @property
    def source(self) -> str:
        return self.info["source"]

    def to_flame(self, arkit: np.ndarray, jaw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(T, 52) weights and (T, 3) jaw → (T, 50) expression coefficients and (T, 3) jaw pose."""
        return np.asarray(arkit) @ self.matrix, np.asarray(jaw)


def check_face_mesh(vertices: np.ndarray, expression_basis: np.ndarray) -> None:
    """Refuse a mesh the fit cannot use, before it turns into NaN coefficients or an empty search."""
    if len(vertices) < MIN_FACE_VERTICES:
        raise InputError(f"the mesh has {len(vertices)} vertices; a face to retarget to needs at least "
                         f"{MIN_FACE_VERTICES} (FLAME's has 5023)")
    if not (np.isfinite(vertices).all() and np.isfinite(expression_basis).all()):
        raise InputError("the mesh or its expression shapes hold values that are not numbers (NaN or infinity)")
    if np.ptp(vertices, axis=0).min() <= 0:
        raise InputError("the mesh is flat or a single point: every vertex shares one coordinate")
    if not np.any(expression_basis):
        raise InputError("the expression shapes move no vertex (every Exp key equals the basis)")


def fit_residuals(matrix: np.ndarray, basis: np.ndarray, targets: np.ndarray, weight: np.ndarray) -> dict[str, float]:
    """Face-weighted relative error ‖B m_k − d_k‖_w / ‖d_k‖_w for every ARKit shape the fit covers."""
    fitted = matrix @ basis.T  # (52, 3V)
    root = np.sqrt(weight)
    out = {}
    for i, name in enumerate(ARKIT_NAMES):
        size = np.linalg.norm(root * targets[i])
        if name not in JAW_SHAPES and size > 0:
            out[name] = float(np.linalg.norm(root * (fitted[i] - targets[i])) / size)
    return out
