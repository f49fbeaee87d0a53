"""The batch's last stage: bake each new line's curves onto a face in Blender and export a .glb.

One Blender process (a Python with bpy, running scripts/bake_glb.py) bakes every line of the run, so
Blender starts once. A line whose bake fails is failed with the reason; its curves file stays.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Callable

from ..errors import InputError
from .records import LineResult, save_record

REPO = Path(__file__).resolve().parents[2]
BAKE_SCRIPT = REPO / "scripts" / "bake_glb.py"


def check_blender(python: str) -> None:
    """Before any line runs: the glb stage needs bpy, which the model process's Python may lack."""
    if not BAKE_SCRIPT.is_file():  # the extension's copy of model_server comes without scripts/
        raise InputError(f"--glb runs {BAKE_SCRIPT.name} from a checkout of the repository; it is not here")
    try:
        found = subprocess.run([python, "-c", "import bpy"], capture_output=True, timeout=120).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        found = False
    if not found:
        raise InputError(f"--glb needs Blender as a Python module: {python} cannot import bpy "
                         "(pip install bpy==5.0.1, or name another with --blender-python)")


def bake_glbs(results: list[LineResult], out_dir: Path, rig: str, face: str | None, python: str,
              progress: Callable[[str], None]) -> None:
    """Adds `<id>.glb` to each baked line's outputs, or fails the line with the bake's error."""
    if not results:
        return
    progress(f"baking {len(results)} glb file{'s' * (len(results) > 1)} on {Path(rig).name}")
    out_dir = Path(out_dir).resolve()  # Blender runs in the repository, not in the caller's folder
    rig = rig if rig == "demo" else str(Path(rig).resolve())
    command = [python, str(BAKE_SCRIPT), "--rig", rig, "-o", str(out_dir)] + (["--face", face] if face else [])
    by_curves = {str(out_dir / r.outputs[0]): r for r in results}
    done = subprocess.run(command + list(by_curves), capture_output=True, text=True, cwd=REPO)
    answers = {}
    for text in done.stdout.splitlines():  # Blender 5.1 and later print other lines (OCIO) among the answers
        try:
            answer = json.loads(text) if text.startswith("{") else None
        except json.JSONDecodeError:
            answer = None
        if isinstance(answer, dict) and "curves" in answer:
            answers[answer["curves"]] = answer
    for curves, result in by_curves.items():
        answer = answers.get(curves, {"error": f"Blender stopped ({done.stderr.strip()[-300:] or done.returncode})"})
        if "glb" in answer:
            result.outputs.append(Path(answer["glb"]).name)
        else:
            result.status, result.reason = "failed", f"baking the glb: {answer['error']}"
        save_record(out_dir, result)
