"""Read a glTF binary (.glb) mesh with morph targets into numpy arrays: stdlib + numpy only.

Enough of glTF 2.0 for the demo head: triangle primitives, float POSITION accessors, morph targets
stored densely or as sparse accessors (Blender's exporter writes them sparse), and
`mesh.extras.targetNames` for the morph names. Node transforms are not applied: the mesh comes
back in its own coordinates (the demo head's node has none).
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError

GLB_MAGIC = 0x46546C67  # "glTF"
CHUNK_JSON, CHUNK_BIN = 0x4E4F534A, 0x004E4942
COMPONENT_TYPES = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}
TYPE_WIDTHS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}
TRIANGLES = 4


@dataclass
class GlbPrimitive:
    material: str  # material name ("" without one)
    positions: np.ndarray  # (n, 3)
    triangles: np.ndarray  # (F, 3) indices into positions
    morph_deltas: np.ndarray  # (K, n, 3) displacement of each morph target at weight 1


@dataclass
class GlbMesh:
    name: str
    target_names: list[str]  # (K,) morph target names, in the file's order
    primitives: list[GlbPrimitive]


def read_glb_mesh(path: str | Path, mesh_index: int = 0) -> GlbMesh:
    """The mesh `mesh_index` of a .glb file, one entry per primitive (glTF splits meshes by material)."""
    path = Path(path)
    data = path.read_bytes()
    if len(data) < 20 or struct.unpack_from("<I", data, 0)[0] != GLB_MAGIC:
        raise InputError(f"{path.name}: not a glTF binary (.glb) file")
    gltf, binary = _chunks(data, path.name)
    meshes = gltf.get("meshes", [])
    if mesh_index >= len(meshes):
        raise InputError(f"{path.name}: has {len(meshes)} meshes, no mesh {mesh_index}")
    mesh = meshes[mesh_index]
    materials = [m.get("name", "") for m in gltf.get("materials", [])]
    primitives = []
    for primitive in mesh["primitives"]:
        if primitive.get("mode", TRIANGLES) != TRIANGLES:
            raise InputError(f"{path.name}: only triangle primitives are supported")
        positions = _accessor(gltf, binary, primitive["attributes"]["POSITION"]).astype(np.float64)
        if "indices" in primitive:
            triangles = _accessor(gltf, binary, primitive["indices"]).astype(np.int64).reshape(-1, 3)
        else:
            triangles = np.arange(len(positions)).reshape(-1, 3)
        targets = primitive.get("targets", [])
        deltas = np.zeros((len(targets), *positions.shape))
        for k, target in enumerate(targets):
            if "POSITION" in target:
                deltas[k] = _accessor(gltf, binary, target["POSITION"])
        material = materials[primitive["material"]] if "material" in primitive else ""
        primitives.append(GlbPrimitive(material, positions, triangles, deltas))
    names = mesh.get("extras", {}).get("targetNames") or [f"target{k}" for k in range(len(primitives[0].morph_deltas))]
    return GlbMesh(mesh.get("name", ""), list(names), primitives)


def _chunks(data: bytes, name: str) -> tuple[dict, bytes]:
    offset, gltf, binary = 12, None, b""
    while offset + 8 <= len(data):
        length, kind = struct.unpack_from("<II", data, offset)
        body = data[offset + 8: offset + 8 + length]
        if kind == CHUNK_JSON:
            gltf = json.loads(body)
        elif kind == CHUNK_BIN:
            binary = body
        offset += 8 + length
    if gltf is None:
        raise InputError(f"{name}: glTF binary without a JSON chunk")
    return gltf, binary


def _view(gltf: dict, binary: bytes, view_index: int, offset: int, dtype, count: int, width: int) -> np.ndarray:
    view = gltf["bufferViews"][view_index]
    start = view.get("byteOffset", 0) + offset
    itemsize = np.dtype(dtype).itemsize * width
    stride = view.get("byteStride", itemsize)
    raw = np.frombuffer(binary, dtype=np.uint8, count=stride * (count - 1) + itemsize if count else 0, offset=start)
    if stride == itemsize:
        return raw.view(dtype).reshape(count, width)
    rows = np.lib.stride_tricks.as_strided(raw, shape=(count, itemsize), strides=(stride, 1))
    return np.ascontiguousarray(rows).view(dtype).reshape(count, width)


def _accessor(gltf: dict, binary: bytes, index: int) -> np.ndarray:
    """(count, width) array, or (count,) for scalars; sparse values substituted over the base."""
    accessor = gltf["accessors"][index]
    dtype, width, count = COMPONENT_TYPES[accessor["componentType"]], TYPE_WIDTHS[accessor["type"]], accessor["count"]
    if "bufferView" in accessor:
        values = _view(gltf, binary, accessor["bufferView"], accessor.get("byteOffset", 0), dtype, count, width).copy()
    else:
        values = np.zeros((count, width), dtype=dtype)  # glTF: an accessor without a view is zeros
    sparse = accessor.get("sparse")
    if sparse:
        n = sparse["count"]
        indices = sparse["indices"]
        where = _view(gltf, binary, indices["bufferView"], indices.get("byteOffset", 0),
                      COMPONENT_TYPES[indices["componentType"]], n, 1)[:, 0]
        values[where.astype(np.int64)] = _view(gltf, binary, sparse["values"]["bufferView"],
                                                sparse["values"].get("byteOffset", 0), dtype, n, width)
    return values[:, 0] if width == 1 else values
