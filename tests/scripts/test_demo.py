"""The demo head asset and the README's main job, in real Blender (each in its own process)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_in_blender(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_demo_head_has_the_52_arkit_keys_and_they_move_the_right_places():
    out = run_in_blender("""
        import bpy, numpy as np
        from model_server.arkit import ARKIT_NAMES
        bpy.ops.wm.open_mainfile(filepath="assets/demo_head.blend")
        head = bpy.data.objects["AVI_DemoHead"]
        keys = head.data.shape_keys.key_blocks
        assert [k.name for k in keys][1:] == list(ARKIT_NAMES)
        def co(name):
            a = np.zeros(len(head.data.vertices) * 3, np.float32); keys[name].data.foreach_get("co", a)
            return a.reshape(-1, 3)
        basis = co("Basis")
        moved = lambda name: np.linalg.norm(co(name) - basis, axis=1)
        jaw = co("jawOpen") - basis
        lower = basis[:, 2] < basis[:, 2].max() - 0.17  # well below the mouth: chin
        print("chin_down", float(jaw[lower, 2].min()))
        smile = moved("mouthSmileLeft")
        print("smile_side", float(basis[smile > 1e-4, 0].mean()))
        close = co("jawOpen") + co("mouthClose") - 2 * basis
        # Lower-lip rim: just below the lip line (z = -0.052), near the middle, on the front of the face.
        band = (basis[:, 2] < -0.052) & (basis[:, 2] > -0.056) & (np.abs(basis[:, 0]) < 0.015)
        rim = band & (basis[:, 1] < basis[band, 1].min() + 0.003)  # the skin, not the teeth behind it
        print("rim_vertices", int(rim.sum()))
        print("close_ratio", float(np.linalg.norm(close[rim], axis=1).mean() / np.linalg.norm(jaw[rim], axis=1).mean()))
    """)
    values = dict(line.split() for line in out.splitlines() if line.split()[0] in ("chin_down", "smile_side", "close_ratio", "rim_vertices"))
    assert int(values["rim_vertices"]) >= 5
    assert float(values["chin_down"]) < -0.005  # jawOpen lowers the chin
    assert float(values["smile_side"]) > 0.01  # "Left" is the subject's left: Blender +X
    assert float(values["close_ratio"]) < 0.1  # mouthClose brings the lower lip back against jawOpen


def test_demo_command_writes_blend_glb_and_fbx(tmp_path):
    done = subprocess.run([sys.executable, "scripts/run_demo.py", "--out", str(tmp_path), "--no-render"], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    for name in ("demo.blend", "demo.glb", "demo.fbx"):
        assert (tmp_path / name).stat().st_size > 10_000, name
    assert "instruction: A" in done.stdout
