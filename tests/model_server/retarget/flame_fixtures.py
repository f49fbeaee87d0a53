"""FLAME-format files for tests: a small head whose expression basis spans the ARKit fields.

Real FLAME files are licensed and never in this repository; these fixtures follow the real files'
layout (v_template, shapedirs V×3×400 = 300 shape + 100 expression, posedirs, J_regressor,
weights, kintree_table, f), including a Python-2-style pickle of chumpy arrays.
"""

from __future__ import annotations

import pickle
import sys
import types
from pathlib import Path

import numpy as np
import scipy.sparse

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "scripts"))

from demo_head_geometry import PARTS, build_head  # noqa: E402

from model_server.arkit import ARKIT_INDEX, ARKIT_NAMES  # noqa: E402
from model_server.retarget.arkit_fields import JAW_SHAPES, arkit_displacements  # noqa: E402

SHAPE, EXPRESSION = 300, 100


def fixture_head():
    """A coarser version of the demo head's skin (about 5k vertices, like FLAME) and its faces."""
    head = build_head(columns=96, base_rows=36)
    skin = np.flatnonzero(np.isin(head.vertex_parts, [PARTS.index("skin"), PARTS.index("lips")]))
    remap = -np.ones(len(head.vertices), dtype=int)
    remap[skin] = np.arange(len(skin))
    quads = [f for f in head.faces if all(remap[i] >= 0 for i in f)]
    triangles = [(remap[a], remap[b], remap[c]) for a, b, c, d in quads] + [(remap[a], remap[c], remap[d]) for a, b, c, d in quads]
    return head.vertices[skin], np.array(triangles, dtype=np.int64), head.landmarks


def flame_arrays(seed: int = 0) -> dict:
    vertices, faces, landmarks = fixture_head()
    rng = np.random.default_rng(seed)
    fields = arkit_displacements(vertices, landmarks)
    moving = [ARKIT_INDEX[n] for n in ARKIT_NAMES if n not in JAW_SHAPES and np.abs(fields[ARKIT_INDEX[n]]).max() > 0]
    basis_fields = fields[moving]  # (M, V, 3)
    mix = rng.normal(size=(50, len(moving)))
    expression = np.einsum("km,mvc->kvc", mix, basis_fields)
    expression /= np.linalg.norm(expression.reshape(50, -1), axis=1)[:, None, None] / 0.01
    extra = rng.normal(scale=1e-4, size=(EXPRESSION - 50, *vertices.shape))
    shapedirs = np.concatenate([np.zeros((SHAPE, *vertices.shape)), expression, extra]).transpose(1, 2, 0)
    v = len(vertices)
    weights = np.zeros((v, 5))
    jaw = (vertices[:, 1] < landmarks.mouth_center[1]) & (vertices[:, 2] > 0)
    weights[jaw, 2] = 1.0
    weights[~jaw, 1] = 1.0
    regressor = np.zeros((5, v))
    regressor[2, np.argsort(np.abs(vertices[:, 1] - landmarks.mouth_center[1] - 0.03))[:8]] = 1 / 8
    regressor[[0, 1, 3, 4], 0] = 1.0
    return {
        "v_template": vertices, "shapedirs": shapedirs.astype(np.float32), "posedirs": np.zeros((v, 3, 36), np.float32),
        "J_regressor": regressor, "weights": weights, "kintree_table": np.array([[2**32 - 1, 0, 1, 1, 1], [0, 1, 2, 3, 4]]),
        "f": faces,
    }


def write_npz(path: Path, seed: int = 0) -> Path:
    np.savez_compressed(path, **flame_arrays(seed))
    return path


def write_chumpy_pickle(path: Path, seed: int = 0) -> Path:
    """Like the official files: chumpy arrays and a scipy.sparse J_regressor, pickled for latin1 loading."""
    arrays = flame_arrays(seed)
    fake_chumpy = types.ModuleType("chumpy.ch")

    class Ch:  # same module and class name as chumpy's, so the pickle refers to chumpy.ch.Ch
        def __init__(self, x):
            self.x = x

        def __getstate__(self):
            return {"x": self.x}

    Ch.__module__, Ch.__qualname__ = "chumpy.ch", "Ch"
    fake_chumpy.Ch = Ch
    sys.modules["chumpy"] = types.ModuleType("chumpy")
    sys.modules["chumpy.ch"] = fake_chumpy
    try:
        data = dict(arrays, shapedirs=Ch(arrays["shapedirs"]), v_template=Ch(arrays["v_template"]),
                    J_regressor=scipy.sparse.csc_matrix(arrays["J_regressor"]))
        path.write_bytes(pickle.dumps(data, protocol=2))
    finally:
        del sys.modules["chumpy"], sys.modules["chumpy.ch"]
    return path
