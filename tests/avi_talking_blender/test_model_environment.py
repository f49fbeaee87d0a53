"""One-click set-up for real: the operator makes a virtual environment in the extension's user folder
(a temporary Blender user folder here) with pip and the shipped requirements, fills in the
interpreter, and that environment's model process then animates a line. Slow: pip installs
everything (from the local pip cache when it is warm)."""

from __future__ import annotations

import platform
import sys
from pathlib import Path

from .helpers import add_line


def test_set_up_makes_an_environment_that_animates_a_line(scene, blender, addon, front_center_wav):
    prefs = blender.context.preferences.addons["bl_ext.user_default.avi_talking_blender"].preferences
    previous_python = prefs.python_path
    prefs.setup_python = sys.executable  # the environment must be made by a Python of the tested version
    try:
        assert blender.ops.avi_talking.setup_environment() == {"FINISHED"}, prefs.setup_status
        folder = addon("operators.environment").environment_folder()
        assert prefs.python_path == str(folder / "bin" / "python") and Path(prefs.python_path).is_file()
        assert prefs.setup_status.startswith("ready:") and "answered" in prefs.setup_status
        assert (folder.parent / "setup.log").read_text().count("$ ") >= 2  # every step is in the log
        blender.ops.avi_talking.add_demo_head()
        add_line(scene, front_center_wav, frame_start=1, dialogue="front center")
        assert blender.ops.avi_talking.generate() == {"FINISHED"}
        assert addon("server_process").current().command[0] == prefs.python_path  # its own process did it
        assert "keyed" in scene.avi_talking.last_status

        assert blender.ops.avi_talking.remove_environment() == {"FINISHED"}
        assert not folder.exists() and prefs.python_path == ""
    finally:
        prefs.python_path, prefs.setup_python = previous_python, ""
        blender.ops.avi_talking.stop_server()


def test_a_failing_step_says_which_and_why(addon, tmp_path):
    env = addon("model_environment")
    package = tmp_path / "package"
    package.mkdir()
    (package / "requirements.txt").write_text("no-such-package-anywhere==0.0.1\n")
    (package / "requirements-no-deps.txt").write_text("")
    setup = env.EnvironmentSetup(sys.executable, tmp_path / "ext" / env.ENV_FOLDER, package)
    setup.run()
    assert setup.state == "failed"
    assert "set-up failed to install the model packages" in setup.error and "no-such-package-anywhere" in setup.error
    # It names the environment's Python and the ones every pin has wheels for.
    assert f"({platform.python_version()} here)" in setup.error and "3.11-3.13" in setup.error
    assert str(setup.log) in setup.error and setup.log.is_file()
