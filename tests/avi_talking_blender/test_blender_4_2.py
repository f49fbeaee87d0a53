"""The extension on Blender 4.2 LTS: slot-less Actions and the demo head import, in real bpy 4.2."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

CHECK = Path(__file__).with_name("blender_4_2_check.py")


def test_writer_and_demo_head_on_blender_4_2(extension_zip):
    python = os.environ.get("AVI_BLENDER_4_2_PYTHON")
    if not python:
        pytest.skip("run through `make test`, which installs Blender 4.2 LTS beside the main environment")
    assert Path(python).is_file(), f"{python} missing: run scripts/setup.sh"
    done = subprocess.run([python, str(CHECK), str(extension_zip)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["version"].startswith("4.2")
    assert result["keys"] == 52
    assert result["jaw_at_121"] == pytest.approx(20 / 39, abs=1e-4)  # sample 20 lands on frame 101 + 20
    assert result["action"].startswith("AVI_line") and result["fcurves"] == 52
    assert result["previous_kept"]
    # NLA layers and key poses on 4.2's unslotted Actions: the layers add up, a ramp needs two keys.
    assert result["layer_tracks"] == ["AVI rest", "AVI lips", "AVI expression", "AVI blinks"]
    assert result["layered_at_121"]["jawOpen"] == pytest.approx(20 / 39, abs=0.02)
    assert result["layered_at_121"]["browInnerUp"] == pytest.approx(0.3, abs=0.02)
    assert result["pose_keys"] < 52 * 3 * 4
    # Exports that skip deforming the mesh each frame: the same bytes (FBX's header has its write time).
    for file_format, (fast_size, reference_size, differing) in result["exports_differ"].items():
        assert fast_size == reference_size > 100_000, file_format
        assert all(i < 1000 for i in differing) if file_format == "FBX" else differing == [], file_format
    # At 29.97 fps a glTF's last key is (frames - 1) × 1.001 / 30 s after its first, where the sound is.
    assert result["glb_times"] and all(last == pytest.approx(frames * 1.001 / 30, abs=1e-5)
                                       for last, frames in result["glb_times"])
