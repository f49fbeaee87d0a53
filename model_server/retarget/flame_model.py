"""Read the user's FLAME model file (.pkl from the FLAME authors, or .npz) without chumpy.

FLAME is licensed by its authors and never ships with this project: users point to their own copy.
The official pickles are Python-2 pickles of chumpy arrays; a small unpickler turns those into
numpy arrays so chumpy (unmaintained) is not needed. It loads only what a FLAME file contains
(an allow-list): a hostile pickle is refused before any of it runs.
"""

from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..arkit import FLAME_EXPRESSION_DIM
from ..errors import InputError, path_problem
from .face_frame import FaceLandmarks, landmarks_from_mesh

REQUIRED_KEYS = ("v_template", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table", "f")
# FLAME 2020 and FLAME 2023 (Open) store shapedirs as (V, 3, 400): 300 identity directions, then
# 100 expression directions; the paper's space uses the first 50 expression directions.
FLAME_SHAPE_COMPONENTS = 300
FLAME_EXPRESSION_COMPONENTS = 100
JAW_JOINT = 2  # FLAME joints: global, neck, jaw, left eye, right eye


class _ChumpyArray:
    """Stands in for chumpy.Ch while unpickling: keeps only the array it wraps."""

    def __init__(self, *args, **kwargs):
        self.array = None

    def __setstate__(self, state):
        value = state.get("x", state.get("a")) if isinstance(state, dict) else state
        self.array = np.asarray(value)


# The only globals a FLAME pickle refers to: numpy arrays and dtypes, scipy's sparse matrices (the
# J_regressor), the bytes and object reconstructors of old pickle protocols, and chumpy's array
# class (read as _ChumpyArray). A pickle can name any callable and have it called while loading
# (os.system, eval, subprocess.Popen), so everything else is refused before it is looked up.
_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("_codecs", "encode"), ("copy_reg", "_reconstructor"), ("copyreg", "_reconstructor"),
    ("__builtin__", "object"), ("builtins", "object"),
    *((f"scipy.sparse.{m}", f"{kind}_matrix") for m in ("csc", "_csc", "csr", "_csr", "coo", "_coo")
      for kind in ("csc", "csr", "coo")),
}


class UnsafeFlameFile(pickle.UnpicklingError):
    """The pickle names something a FLAME model file never contains."""


class _FlameUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if module == "chumpy" or module.startswith("chumpy."):
            return _ChumpyArray
        if (module, name) not in _ALLOWED_GLOBALS:
            raise UnsafeFlameFile(f"it asks to load {module}.{name}, which a FLAME model never contains; "
                                  "nothing in it was run")
        return super().find_class(module, name)


def _plain(value):
    if isinstance(value, _ChumpyArray):
        return value.array
    if hasattr(value, "toarray"):  # scipy.sparse (J_regressor)
        return value.toarray()
    return np.asarray(value)


@dataclass
class FlameModel:
    v_template: np.ndarray  # (V, 3) metres, FLAME frame (y up, z forward)
    faces: np.ndarray  # (F, 3)
    expression_basis: np.ndarray  # (50, V, 3): displacement per unit of each expression coefficient
    sha256: str
    source: str
    jaw_weights: np.ndarray  # (V,) skinning weight of the jaw joint
    jaw_joint: np.ndarray  # (3,) jaw joint position in the template

    def template_mesh(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Template vertices (V, 3), triangles (F, 3), expression displacement fields (50, V, 3)."""
        return self.v_template, self.faces, self.expression_basis

    def landmarks(self) -> FaceLandmarks:
        """Mouth, eyes, nose tip and chin of the template, measured from its geometry (face_frame.py)."""
        return landmarks_from_mesh(self.v_template, self.faces)

    def jaw_open_offsets(self, radians: float) -> np.ndarray:
        """(V, 3) displacement of the template when the jaw opens by `radians` (linear blend skinning)."""
        c, s = np.cos(radians), np.sin(radians)
        p = self.v_template - self.jaw_joint
        rotated = np.stack([p[:, 0], c * p[:, 1] - s * p[:, 2], s * p[:, 1] + c * p[:, 2]], axis=1)
        return self.jaw_weights[:, None] * (rotated - p)


def flame_template_mesh(path: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What the Blender "Add FLAME head" operator needs: vertices (V, 3), faces (F, 3), basis (50, V, 3)."""
    return load_flame_model(path).template_mesh()


def expression_offset(shapedirs_components: int, shape_components: int | None) -> int:
    """Index of the first expression direction in shapedirs' last axis.

    The documented layout is identity directions first, then 100 expression directions. Given no
    split, a file with 400 or more components is read as FLAME's 300 + 100; a smaller one (a trimmed
    export) as "the last 100 are expression". Pass shape_components to read another split.
    """
    if shape_components is not None:
        return shape_components
    if shapedirs_components >= FLAME_SHAPE_COMPONENTS + FLAME_EXPRESSION_COMPONENTS:
        return FLAME_SHAPE_COMPONENTS
    return max(shapedirs_components - FLAME_EXPRESSION_COMPONENTS, 0)


def load_flame_model(path: str | Path, *, shape_components: int | None = None) -> FlameModel:
    """Read a FLAME model file; `shape_components` overrides the identity/expression split of shapedirs."""
    path = Path(path)
    try:
        raw = path.read_bytes() if path.is_file() else None
    except (OSError, ValueError) as exc:  # a name too long for the filesystem, no permission, …
        raise InputError(f"{path.name[:80]}: cannot open this FLAME model path ({path_problem(exc)})") from exc
    if raw is None:
        raise InputError(f"FLAME model not found: {str(path)[:200]}. Download FLAME from its authors and point "
                         f"to the .pkl or .npz")
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                data = {k: archive[k] for k in archive.files}
        else:
            data = _FlameUnpickler(__import__("io").BytesIO(raw), encoding="latin1").load()
    except UnsafeFlameFile as exc:
        raise InputError(f"{path.name} is not a FLAME model file and was refused: {exc}") from exc
    except Exception as exc:  # any decoding failure is a bad file from the user's point of view
        # The decoder's own words would echo the file's bytes ("invalid load key 'v'"): say what it is not.
        raise InputError(f"{path.name[:80]}: cannot read as a FLAME model (not a FLAME .pkl pickle or .npz "
                         f"archive, or a damaged one)") from exc
    return flame_model_from_arrays(data, source=path.name, sha256=hashlib.sha256(raw).hexdigest(),
                                   shape_components=shape_components)


def flame_model_from_arrays(data: dict, *, source: str, sha256: str, shape_components: int | None = None) -> FlameModel:
    """A FlameModel from the file's dictionary of arrays (v_template, shapedirs, weights, J_regressor, f, ...)."""
    if not isinstance(data, dict):
        raise InputError(f"{source}: not a FLAME model (expected a dictionary of arrays)")
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        raise InputError(f"{source}: not a FLAME model, missing {', '.join(missing)}")
    v_template = _plain(data["v_template"]).astype(np.float64)
    shapedirs = _plain(data["shapedirs"]).astype(np.float64)
    faces = _plain(data["f"]).astype(np.int64)
    if v_template.ndim != 2 or v_template.shape[1] != 3:
        raise InputError(f"{source}: v_template must be (V, 3), got {v_template.shape}")
    if shapedirs.ndim != 3 or shapedirs.shape[:2] != v_template.shape:
        raise InputError(f"{source}: shapedirs must be (V, 3, K) matching v_template, got {shapedirs.shape}")
    first = expression_offset(shapedirs.shape[2], shape_components)
    if shapedirs.shape[2] < first + FLAME_EXPRESSION_DIM:
        raise InputError(f"{source}: shapedirs has {shapedirs.shape[2]} components; FLAME expression space needs "
                         f"{first} shape + {FLAME_EXPRESSION_DIM} expression components (FLAME 2020/2023 files "
                         f"have 300 + 100; give the split with shape_components if yours differs)")
    expression = shapedirs[:, :, first:first + FLAME_EXPRESSION_DIM]
    weights = _plain(data["weights"]).astype(np.float64)
    regressor = _plain(data["J_regressor"]).astype(np.float64)
    if weights.shape[0] != len(v_template) or weights.shape[1] <= JAW_JOINT or regressor.shape[1] != len(v_template):
        raise InputError(f"{source}: weights / J_regressor do not match the template's {len(v_template)} vertices")
    return FlameModel(
        v_template=v_template,
        faces=faces,
        expression_basis=np.transpose(expression, (2, 0, 1)).copy(),
        sha256=sha256,
        source=source,
        jaw_weights=weights[:, JAW_JOINT],
        jaw_joint=(regressor @ v_template)[JAW_JOINT],
    )
