"""Blender tests run inside the real bpy module with the extension installed from its built zip.

bpy can be imported once per process; Blender's user folder points to a temporary directory
so the tests never touch the machine's own Blender preferences or extensions.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
os.environ["BLENDER_USER_RESOURCES"] = tempfile.mkdtemp(prefix="avi-blender-user-")
sys.path.insert(0, str(REPO / "scripts"))

from .model_python import MODEL_PYTHON  # noqa: E402


_exit_status = 0


def pytest_sessionfinish(session, exitstatus):
    global _exit_status
    _exit_status = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    # bpy 4.2's module crashes (SIGSEGV) while Python tears it down at exit, after every test has run and
    # been reported: there, leave with pytest's own status before that teardown.
    bpy = sys.modules.get("bpy")
    if bpy is not None and bpy.app.version < (4, 3, 0):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status)


@pytest.fixture(scope="session")
def extension_zip(tmp_path_factory) -> Path:
    from build_extension import build

    return build(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def blender(extension_zip):
    import bpy

    from run_demo import install_extension

    bpy.ops.wm.read_factory_settings(use_empty=True)
    install_extension(bpy, extension_zip)
    prefs = bpy.context.preferences.addons["bl_ext.user_default.avi_talking_blender"].preferences
    prefs.python_path = MODEL_PYTHON
    yield bpy
    bpy.ops.avi_talking.stop_server()


@pytest.fixture(scope="session")
def tiny_agent_files(request, tmp_path_factory) -> tuple[Path, Path]:
    """(adapter folder, language-model folder) of a tiny learned agent: the session's own where this
    environment has the model packages, else built by the model environment's Python."""
    if importlib.util.find_spec("torch") is not None:
        return request.getfixturevalue("tiny_agent_dir"), request.getfixturevalue("tiny_lm_dir")
    out = tmp_path_factory.mktemp("tiny-agent")
    done = subprocess.run([MODEL_PYTHON, "-m", "tests.tiny_models", str(out)], cwd=REPO, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return out / "agent", out / "lm"


@pytest.fixture
def scene(blender):
    blender.ops.wm.read_homefile(use_empty=True)
    scene = blender.context.scene
    scene.render.fps, scene.render.fps_base = 25, 1.0
    return scene


@pytest.fixture
def addon(blender):
    """The installed add-on's modules (imported the way Blender imported them)."""
    import importlib

    return lambda name: importlib.import_module(f"bl_ext.user_default.avi_talking_blender.{name}")
