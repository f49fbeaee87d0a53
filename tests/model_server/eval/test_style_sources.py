"""The style-source breakdown with the shipped learned weights on a tiny corpus: every row, finite numbers."""

from __future__ import annotations

import contextlib
import io
import math

import pytest

from model_server.eval.style_sources import DRAWS, GUIDANCES, main

from .tiny_corpus import ALSA, build_tiny_corpus


def test_prints_every_style_source_with_finite_lip_error(tmp_path):
    if not (ALSA / "Front_Center.wav").exists():
        pytest.fail("real speech clips missing: apt-get install alsa-utils (scripts/setup.sh does this)")
    corpus = build_tiny_corpus(tmp_path / "corpus")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["--corpus", str(corpus), "--limit", "2"]) == 0
    rows = {line.split(" | ")[0].lstrip("| "): line.strip("| \n").split(" | ")[1:]
            for line in printed.getvalue().splitlines() if line.startswith("| ") and "---" not in line}
    rows.pop("style code")
    expected = (["style of the true motion (oracle)", "typical style (take 1)"] + [f"one prior draw, guidance {g:g}" for g in GUIDANCES]
                + [f"mean of {DRAWS} prior draws, guidance 1", "training clip with the nearest parsed controls",
                   "mean style of the 16 nearest training clips"])
    assert list(rows) == expected
    for name, (lve, *diversity) in rows.items():
        assert math.isfinite(float(lve)) and float(lve) > 0  # the tiny corpus's motion is nobody's output
        if name.startswith("one prior draw"):
            assert 0 < float(diversity[0]) <= 2  # unit codes: pairwise distances lie in (0, 2]
