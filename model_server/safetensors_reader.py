"""A .safetensors file read into tensors the process owns, one after another.

safetensors' own load_file maps the file and hands out views of the map: every page read stays resident
for as long as any tensor of the file lives, so a model that replaces some of its tensors (adapters
merged, projections joined) held both the old and the new ones. Reading each tensor into memory of its
own lets the replaced ones go. The format: an 8-byte little-endian header length, a JSON header
{name: {dtype, shape, data_offsets}}, then the data; nothing in it is executed.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import torch

from .errors import InputError

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64,
          "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
          "BOOL": torch.bool}
MAX_HEADER_BYTES = 100_000_000  # the format's own limit


def read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as handle:
        (header_bytes,) = struct.unpack("<Q", handle.read(8) or b"\0" * 8)
        if not 0 < header_bytes <= min(MAX_HEADER_BYTES, size - 8):
            raise InputError(f"{path} is not a .safetensors file (its header length is {header_bytes})")
        try:
            header = json.loads(handle.read(header_bytes))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"{path} is not a .safetensors file: {exc}") from exc
        data_start, tensors = 8 + header_bytes, {}
        for name, entry in header.items():
            if name == "__metadata__":
                continue
            dtype = DTYPES.get(entry.get("dtype"))
            begin, end = entry.get("data_offsets", (0, -1))
            shape = entry.get("shape")
            if dtype is None or not isinstance(shape, list) or not 0 <= begin <= end <= size - data_start:
                raise InputError(f"{path}: tensor {name!r} is not one this reader knows ({entry})")
            tensor = torch.empty(shape, dtype=dtype)
            if end - begin != math.prod(shape) * tensor.element_size():
                raise InputError(f"{path}: tensor {name!r} holds {end - begin} bytes for shape {shape}")
            if end > begin:
                handle.seek(data_start + begin)
                raw = tensor.reshape(-1).view(torch.uint8).numpy()  # the tensor's own bytes, written in place
                if handle.readinto(memoryview(raw)) != end - begin:
                    raise InputError(f"{path} ends inside tensor {name!r}")
            tensors[name] = tensor
    return tensors
