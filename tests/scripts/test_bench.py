"""The benchmark's Blender half on a real line's curves: every row it promises, in real Blender (its own
process), so that a change to the add-on cannot leave `make bench` broken."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_blender_stages_key_pose_and_export_a_real_lines_curves(tmp_path, front_center_wav):
    from model_server.audio.loading import load_audio
    from model_server.config import PipelineConfig
    from model_server.pipeline import TalkingFacePipeline

    pipeline = TalkingFacePipeline.from_config(PipelineConfig(agent="baseline"))
    curves = pipeline(load_audio(front_center_wav), transcript="front center", fps=25.0)
    path = tmp_path / "curves.json"
    path.write_text(json.dumps(curves))
    done = subprocess.run([sys.executable, str(REPO / "bench" / "blender_stages.py"), str(path)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = dict(json.loads(done.stdout.strip().splitlines()[-1]))
    for stage in ("curves → keyframes, 52 ARKit curves (demo head)", "curves → key poses, 52 ARKit curves (within 0.02)",
                  "curves → keyframes, 53 FLAME curves (50 Exp + jaw bone)"):
        assert rows[stage] > 0, stage
    assert "fewer)" in rows["key poses: keys kept of the dense keys"]
    exports = [stage for stage in rows if stage.startswith("export ")]
    assert [stage.split()[1] for stage in exports] == ["GLB", "FBX"] and all(rows[s] > 0 for s in exports)


def test_the_alignment_scaling_bench_prints_both_passes_and_their_agreement():
    done = subprocess.run([sys.executable, str(REPO / "bench" / "alignment_scaling.py"), "--seconds", "40",
                           "--clips", "repeated"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    row = [line for line in done.stdout.splitlines() if line.startswith("| repeated")]
    assert len(row) == 1
    cells = [c.strip() for c in row[0].strip("|").split("|")]
    assert len(cells) == 12 and float(cells[2]) > 0 and float(cells[5]) > 0 and float(cells[4]) > 0
    assert float(cells[9]) >= 0.9  # the pieces find the whole clip's phones, nearly all within a frame
