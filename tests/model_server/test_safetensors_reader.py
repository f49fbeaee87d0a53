"""Model weights read into memory of the process's own: the tensors safetensors itself reads, and files
that are not what they claim refused with the reason (nothing in them runs)."""

from __future__ import annotations

import json
import struct

import pytest
import torch
from safetensors.torch import load_file, save_file

from model_server.errors import InputError
from model_server.safetensors_reader import read_safetensors


def test_it_reads_what_safetensors_reads(tmp_path):
    tensors = {"weight": torch.randn(3, 5), "half": torch.randn(4).to(torch.bfloat16), "ids": torch.arange(6),
               "flag": torch.tensor([True, False]), "empty": torch.zeros(0, 2)}
    save_file(tensors, tmp_path / "w.safetensors", metadata={"format": "pt"})
    ours, theirs = read_safetensors(tmp_path / "w.safetensors"), load_file(tmp_path / "w.safetensors")
    assert ours.keys() == theirs.keys() == tensors.keys()
    for name in tensors:
        assert ours[name].dtype == theirs[name].dtype and torch.equal(ours[name], theirs[name])


def header_file(path, header: dict, data: bytes = b"") -> None:
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)


@pytest.mark.parametrize("header, data, reason", [
    ({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 4, "not one this reader knows"),
    ({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\0" * 8, "holds 8 bytes for shape"),
    ({"w": {"dtype": "PICKLE", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8, "not one this reader knows"),
])
def test_a_file_that_lies_about_its_tensors_is_refused(tmp_path, header, data, reason):
    header_file(tmp_path / "w.safetensors", header, data)
    with pytest.raises(InputError, match=reason):
        read_safetensors(tmp_path / "w.safetensors")


def test_a_file_that_is_not_safetensors_is_refused(tmp_path):
    (tmp_path / "w.safetensors").write_bytes(b"\x80\x04\x95 a pickle, not weights")
    with pytest.raises(InputError, match="not a .safetensors file"):
        read_safetensors(tmp_path / "w.safetensors")
    (tmp_path / "empty.safetensors").write_bytes(b"")
    with pytest.raises(InputError, match="not a .safetensors file"):
        read_safetensors(tmp_path / "empty.safetensors")
