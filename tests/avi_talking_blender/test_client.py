"""The add-on's HTTP client in plain Python, against real sockets."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from avi_talking_blender.client import ApiClient, ServerError, ServerUnavailable  # noqa: E402


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_dead_server_gives_a_clear_message():
    client = ApiClient(f"http://127.0.0.1:{closed_port()}", "token", timeout=2)
    with pytest.raises(ServerUnavailable, match="not reachable.*start it from the AVI-Talking panel"):
        client.health()


def test_local_servers_get_paths_remote_ones_get_bytes(front_center_wav):
    local = ApiClient("http://127.0.0.1:9", "t").audio_fields(str(front_center_wav))
    remote = ApiClient("http://studio-gpu:8765", "t").audio_fields(str(front_center_wav))
    assert local == {"audio_path": str(front_center_wav), "filename": "Front_Center.wav"}
    assert "audio_b64" in remote and len(remote["audio_b64"]) > front_center_wav.stat().st_size


def test_unreadable_file_for_remote_upload(tmp_path):
    with pytest.raises(ServerError, match="cannot read"):
        ApiClient("http://gpu:1", "t").audio_fields(str(tmp_path / "missing.wav"))
