"""FLAME-format files for tests: a small head whose expression basis spans the ARKit fields.

Real FLAME files are licensed and never in this repository; these fixtures are the synthetic
FLAME-format model (model_server/retarget/synthetic_flame.py) of a coarse reference head, written like
the real files (shapedirs V×3×400 = 300 shape + 100 expression), including a Python-2-style pickle
of chumpy arrays.
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

from reference_head_geometry import PARTS, build_head  # noqa: E402

from model_server.retarget.synthetic_flame import synthetic_flame_arrays  # noqa: E402


def fixture_head():
    """A coarser version of the reference head's skin (about 5k vertices, like FLAME) and its faces."""
    head = build_head(columns=96, base_rows=36)
    skin = np.flatnonzero(np.isin(head.vertex_parts, [PARTS.index("skin"), PARTS.index("lips")]))
    remap = -np.ones(len(head.vertices), dtype=int)
    remap[skin] = np.arange(len(skin))
    quads = [f for f in head.faces if all(remap[i] >= 0 for i in f)]
    triangles = [(remap[a], remap[b], remap[c]) for a, b, c, d in quads] + [(remap[a], remap[c], remap[d]) for a, b, c, d in quads]
    return head.vertices[skin], np.array(triangles, dtype=np.int64), head.landmarks


def flame_arrays(seed: int = 0) -> dict:
    return synthetic_flame_arrays(*fixture_head(), seed=seed)


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
