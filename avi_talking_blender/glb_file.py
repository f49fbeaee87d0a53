"""glTF binary files (GLB) read and written as Blender's exporter writes them: the JSON chunk's top-level
entries in its order, whole numbers as ints, chunks padded to four bytes. No bpy here."""

from __future__ import annotations

import json
import struct
import sys
from array import array
from pathlib import Path

FLOAT = 5126  # glTF componentType of 32-bit floats
MAGIC, CHUNK_JSON, CHUNK_BIN = 0x46546C67, 0x4E4F534A, 0x004E4942  # "glTF", "JSON", "BIN\0"


def read_glb(path: Path) -> tuple[dict, bytearray]:
    data = Path(path).read_bytes()
    magic, version, _ = struct.unpack_from("<III", data, 0)
    json_length, json_kind = struct.unpack_from("<II", data, 12)
    if (magic, version, json_kind) != (MAGIC, 2, CHUNK_JSON):
        raise ValueError(f"{path} is not a glTF 2.0 binary")
    document = json.loads(data[20:20 + json_length])
    binary = bytearray()
    if len(data) > 20 + json_length:
        bin_length, _ = struct.unpack_from("<II", data, 20 + json_length)
        binary = bytearray(data[28 + json_length:28 + json_length + bin_length])
    return document, binary


# The exporter's order of a document's top-level entries; inside them, keys are sorted.
TOP_LEVEL = ("asset", "extensionsUsed", "extensionsRequired", "extensions", "extras", "scene", "scenes", "nodes",
             "cameras", "animations", "materials", "meshes", "textures", "images", "skins", "accessors",
             "bufferViews", "samplers", "buffers")


def write_glb(path: Path, document: dict, binary: bytearray) -> None:
    """The document and binary as a GLB, laid out as Blender's exporter lays them out."""
    ordered = {key: document[key] for key in sorted(document, key=lambda k: TOP_LEVEL.index(k) if k in TOP_LEVEL
                                                    else len(TOP_LEVEL))}
    text = json.dumps(ordered, separators=(",", ":"), allow_nan=False).encode()
    text += b" " * (-len(text) % 4)
    binary = bytes(binary) + b"\0" * (-len(binary) % 4)
    total = 12 + 8 + len(text) + (8 + len(binary) if binary else 0)
    with open(path, "wb") as out:
        out.write(struct.pack("<III", MAGIC, 2, total))
        out.write(struct.pack("<II", len(text), CHUNK_JSON) + text)
        if binary:
            out.write(struct.pack("<II", len(binary), CHUNK_BIN) + binary)


def whole_as_int(value: float) -> float | int:
    """A whole number as an int, as the exporter writes them (glTF validators flag 0.0 for 0)."""
    return int(value) if value == int(value) else value


def append_floats(binary: bytearray, values: array) -> int:
    """Append little-endian floats at a 4-byte boundary; their offset."""
    binary.extend(b"\0" * (-len(binary) % 4))
    offset = len(binary)
    binary.extend(_little_endian(values).tobytes())
    return offset


def floats_at(binary: bytearray, offset: int, count: int) -> array:
    """`count` little-endian floats of the binary chunk from `offset`."""
    return _little_endian(array("f", binary[offset:offset + 4 * count]))


def put_floats(binary: bytearray, offset: int, values: array) -> None:
    """Overwrite floats in place, little-endian."""
    binary[offset:offset + 4 * len(values)] = _little_endian(values).tobytes()


def _little_endian(values: array) -> array:
    """The floats as the file stores them, or back (a swap either way): a swapped copy on a big-endian machine."""
    if sys.byteorder == "little":
        return values
    swapped = array("f", values)
    swapped.byteswap()
    return swapped
