"""ARKit articulation → FLAME's 50 expression coefficients + 3 jaw pose, fitted to the user's FLAME.

How: the ARKit fields (arkit_fields.py) are evaluated on FLAME's template; each field's displacement
is fitted by FLAME's expression basis with ridge least squares, giving a 52×50 matrix. FLAME opens
the mouth with its jaw joint, so the jaw shapes (jawOpen, jawLeft, jawRight, jawForward) map to the
jaw pose, which passes through unchanged (axis-angle radians, +x opens).

Without a FLAME model (`FlameRetarget.default()`): expression is all zeros and only the jaw pose
carries motion. That is the one FLAME curve that needs no licensed basis; the README says so.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import numpy as np

from ..arkit import ARKIT_INDEX, ARKIT_NAMES, FLAME_EXPRESSION_DIM
from ..errors import InputError
from .arkit_fields import JAW_SHAPES, arkit_displacements
from .face_frame import landmarks_from_mesh
from .flame_model import load_flame_model

RIDGE = 1e-3  # relative to the basis energy: keeps coefficients small where the fit is ambiguous
_CACHE: dict[str, "FlameRetarget"] = {}
_CACHE_LOCK = threading.Lock()


class FlameRetarget:
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
        landmarks = landmarks_from_mesh(vertices, faces)
        targets = arkit_displacements(vertices, landmarks)  # (52, V, 3)
        basis = expression_basis.reshape(expression_basis.shape[0], -1).T  # (3V, 50)
        gram = basis.T @ basis
        ridge = RIDGE * np.trace(gram) / gram.shape[0]
        solve = np.linalg.solve(gram + ridge * np.eye(gram.shape[0]), basis.T)  # (50, 3V)
        flat = targets.reshape(len(ARKIT_NAMES), -1)  # (52, 3V)
        matrix = flat @ solve.T  # (52, 50)
        for name in JAW_SHAPES:
            matrix[ARKIT_INDEX[name]] = 0.0
        fitted = matrix @ basis.T
        moving = np.array([i for i, n in enumerate(ARKIT_NAMES) if n not in JAW_SHAPES and np.abs(flat[i]).max() > 0])
        residual = np.linalg.norm(fitted[moving] - flat[moving], axis=1) / np.linalg.norm(flat[moving], axis=1)
        info = dict(info, id=info["sha256"], fit_relative_residual=round(float(np.median(residual)), 4))
        return cls(matrix, info)

    def to_flame(self, arkit: np.ndarray, jaw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(T, 52) weights and (T, 3) jaw → (T, 50) expression coefficients and (T, 3) jaw pose."""
        return np.asarray(arkit) @ self.matrix, np.asarray(jaw)
