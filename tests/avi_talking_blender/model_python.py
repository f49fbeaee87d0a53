"""The interpreter that runs the model process in these tests: the model environment's, never Blender's.

`make test` runs this folder under every tested Blender, each in an environment with bpy and the tests'
few packages only; AVI_MODEL_PYTHON names the main environment, whose Python has the model packages, as
the add-on's preferences name the set-up environment for a user. Run by hand in the main environment,
it is that environment's own Python."""

from __future__ import annotations

import os
import sys

MODEL_PYTHON = os.environ.get("AVI_MODEL_PYTHON") or sys.executable
