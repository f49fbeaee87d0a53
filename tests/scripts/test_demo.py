"""The README's main job, the demo command, in real Blender (its own process)."""

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


def test_demo_command_writes_blend_glb_fbx_the_side_by_side_preview_and_the_dialogue(tmp_path):
    # The dialogue's movie (minutes of rendering) is left out here; its contact sheet is made.
    done = subprocess.run([sys.executable, "scripts/run_demo.py", "--out", str(tmp_path), "--no-movie"], cwd=REPO,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    for name in ("demo.blend", "demo.glb", "demo.fbx"):
        assert (tmp_path / name).stat().st_size > 10_000, name
    assert "instruction: A" in done.stdout
    assert "furious: A very angry" in done.stdout and "delighted: A very happy" in done.stdout
    assert "taken off" not in done.stdout  # each take its own line: no head loses its animation to another
    size = run_in_blender(f"""
        import bpy
        image = bpy.data.images.load({str(tmp_path / "demo_preview.png")!r})
        print("size", *image.size)
    """).split("size")[-1].split()
    assert [int(n) for n in size] == [3 * 560, 400]  # three frames, both heads in each
    assert "2 of 2 lines keyed" in done.stdout and "'Ben' listens" in done.stdout and "'Ada' listens" in done.stdout
    assert (tmp_path / "demo_dialogue.blend").stat().st_size > 10_000
    size = run_in_blender(f"""
        import bpy
        image = bpy.data.images.load({str(tmp_path / "demo_dialogue.png")!r})
        print("size", *image.size)
    """).split("size")[-1].split()
    # eight frames over the dialogue, then a row of close-ups: each face twice in its own line
    assert [int(n) for n in size] == [4 * 480 + 3 * 6, 3 * 300 + 2 * 6]
