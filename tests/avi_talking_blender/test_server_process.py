"""The add-on's server launcher in plain Python: handshake, and no orphan when the parent dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from avi_talking_blender import server_process  # noqa: E402

from .model_python import MODEL_PYTHON  # noqa: E402


def test_start_handshake_health_and_stop():
    server = server_process.wait_ready(server_process.start(MODEL_PYTHON))
    try:
        assert server.url.startswith("http://127.0.0.1:") and len(server.token) >= 32
        assert server.client().health()["status"] == "ok"
        assert server_process.current() is server
    finally:
        server_process.stop()
    assert server.process.wait(timeout=10) is not None
    assert server_process.current() is None


def test_the_handshake_finds_the_ready_line_after_other_output(tmp_path):
    # An interpreter that prints before the model process does, as Blender 5.1's bpy prints an OCIO line.
    noisy = tmp_path / "noisy-python"
    noisy.write_text(f'#!/bin/sh\necho "OCIO: using the config of Blender 5.1"\necho "{{not json"\nexec {MODEL_PYTHON} "$@"\n')
    noisy.chmod(0o755)
    server = server_process.wait_ready(server_process.start(str(noisy)))
    try:
        assert server.client().health()["status"] == "ok"
        assert server.output_tail[:2] == ["OCIO: using the config of Blender 5.1", "{not json"]
    finally:
        server_process.stop()


def test_a_bad_interpreter_is_reported():
    import pytest

    with pytest.raises(server_process.ServerStartError, match="cannot run the model server's Python"):
        server_process.start("/nonexistent/python3")


def test_server_exits_when_the_process_that_started_it_is_killed(tmp_path):
    # The parent stands in for Blender: it starts the server, prints its pid, then is killed -9.
    parent = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(REPO)!r})
        from avi_talking_blender import server_process
        server = server_process.wait_ready(server_process.start({MODEL_PYTHON!r}))
        print("AVI_SERVER_PID", server.process.pid, flush=True)
        time.sleep(600)
    """)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Blender 5.1 and later print an OCIO line first in a child's output: never read the first line blindly.
    line = next((line for line in parent.stdout if line.startswith("AVI_SERVER_PID ")), "")
    assert line, parent.stderr.read()[-2000:]
    server_pid = int(line.split()[1])
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.kill(server_pid, 0)
        except ProcessLookupError:
            return
        try:  # reap it if it became our zombie grandchild
            os.waitpid(server_pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.1)
    os.kill(server_pid, signal.SIGKILL)
    raise AssertionError("the model server outlived the process that started it")
