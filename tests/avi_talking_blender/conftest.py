"""Blender tests run inside the real bpy module with the extension installed from its built zip.

bpy can be imported once per process; Blender's user folder points to a temporary directory
so the tests never touch the machine's own Blender preferences or extensions.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
os.environ["BLENDER_USER_RESOURCES"] = tempfile.mkdtemp(prefix="avi-blender-user-")
sys.path.insert(0, str(REPO / "scripts"))


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
    prefs.python_path = sys.executable  # the test environment has the server's packages
    yield bpy
    bpy.ops.avi_talking.stop_server()


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
