"""Build the installable extension zip and check it with Blender's own extension validator.

    python scripts/build_extension.py            → dist/avi_talking_blender-<version>.zip

The zip holds blender_manifest.toml and the add-on package at its root, plus the bundled
model_server/ and assets/ (Blender's builder wants the manifest beside __init__.py, so the
pieces are staged in a temporary folder first).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Caches, Blender's .blend1 backups and editor leftovers never ship.
IGNORE_NAMES = ("__pycache__", "*.pyc", "*.blend[0-9]", "*.blend@", "*~", ".*", "tests")
IGNORE = shutil.ignore_patterns(*IGNORE_NAMES)


def blender_ext_cli() -> Path:
    """Blender's extension command line, shipped inside the bpy module (and every Blender)."""
    import importlib.util

    spec = importlib.util.find_spec("bpy")
    if spec is None or spec.origin is None:
        sys.exit("bpy is not installed: run scripts/setup.sh (it installs bpy==5.0.1)")
    found = sorted(Path(spec.origin).parent.glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
    if not found:
        sys.exit("blender_ext.py not found inside the bpy module")
    return found[-1]


def build(output_dir: Path) -> Path:
    manifest = tomllib.loads((REPO / "blender_manifest.toml").read_text())
    output_dir.mkdir(parents=True, exist_ok=True)
    zip_path = output_dir / f"{manifest['id']}-{manifest['version']}.zip"
    cli = blender_ext_cli()
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp) / manifest["id"]
        shutil.copytree(REPO / "avi_talking_blender", stage, ignore=IGNORE)
        shutil.copytree(REPO / "model_server", stage / "model_server", ignore=IGNORE)
        # The reference head is the evaluation's measuring mesh; nothing in Blender reads it.
        shutil.copytree(REPO / "assets", stage / "assets",
                        ignore=shutil.ignore_patterns(*IGNORE_NAMES, "reference_head.glb"))
        shutil.copy2(REPO / "blender_manifest.toml", stage / "blender_manifest.toml")
        shutil.copy2(REPO / "LICENSE", stage / "LICENSE")
        shutil.copy2(REPO / "requirements.txt", stage / "requirements.txt")
        shutil.copy2(REPO / "requirements-no-deps.txt", stage / "requirements-no-deps.txt")
        zip_path.unlink(missing_ok=True)
        built = subprocess.run([sys.executable, str(cli), "build", "--source-dir", str(stage),
                                "--output-filepath", str(zip_path)], capture_output=True, text=True)
        if built.returncode != 0:
            sys.exit(f"Blender's extension builder failed:\n{built.stdout}{built.stderr}")
    done = subprocess.run([sys.executable, str(cli), "validate", str(zip_path)], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"Blender's validator rejected {zip_path}:\n{done.stdout}{done.stderr}")
    return zip_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output-dir", type=Path, default=REPO / "dist")
    path = build(parser.parse_args().output_dir)
    print(f"built and validated {path} ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
