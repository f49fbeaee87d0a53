"""The built extension: Blender's validator accepts it, it installs, and its UI registers."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile


def test_zip_bundles_the_model_process_and_assets(extension_zip):
    names = set(zipfile.ZipFile(extension_zip).namelist())
    assert {"blender_manifest.toml", "__init__.py", "keyframes.py", "model_server/curves.py",
            "model_server/api/app.py", "assets/demo_head.glb", "requirements.txt"} <= names
    assert not any("__pycache__" in n or n.endswith(".blend1") or "/tests/" in n for n in names)


def test_blenders_validator_accepts_the_zip(extension_zip):
    from build_extension import blender_ext_cli

    done = subprocess.run([sys.executable, str(blender_ext_cli()), "validate", str(extension_zip)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    manifest = tomllib.loads(zipfile.ZipFile(extension_zip).read("blender_manifest.toml").decode())
    assert (manifest["id"], manifest["blender_version_min"]) == ("avi_talking_blender", "4.2.0")
    assert set(manifest["permissions"]) == {"files", "network"}


def test_installed_as_an_extension_with_preferences(blender):
    addon = blender.context.preferences.addons.get("bl_ext.user_default.avi_talking_blender")
    assert addon is not None and addon.preferences.server_mode == "LOCAL"
    assert addon.preferences.default_seed == 0


def test_operators_and_panels_register_in_both_editors(blender):
    bpy = blender
    for name in ("analyze", "generate", "cancel", "start_server", "stop_server", "add_demo_head",
                 "add_flame_head", "export_animation"):
        assert hasattr(bpy.ops.avi_talking, name), name
    assert bpy.types.AVI_TALKING_PT_sequencer.bl_space_type == "SEQUENCE_EDITOR"
    assert bpy.types.AVI_TALKING_PT_view3d.bl_space_type == "VIEW_3D"
    assert hasattr(bpy.types.Scene, "avi_talking")


def test_add_demo_head_makes_it_the_target(scene, blender, addon):
    assert blender.ops.avi_talking.add_demo_head() == {"FINISHED"}
    head = scene.avi_talking.target
    assert head.name.startswith("AVI_DemoHead")
    target = addon("targets").find_target(head)
    assert target.kind == "arkit" and len(target.key_for_channel) == 52


def test_add_flame_head_without_a_flame_file_explains_what_to_do(scene, blender):
    import pytest

    with pytest.raises(RuntimeError, match="set your FLAME model file"):
        blender.ops.avi_talking.add_flame_head()
