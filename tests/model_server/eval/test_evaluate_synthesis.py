"""The evaluation command end to end on a tiny corpus: every section, finite numbers, JSON beside the table."""

from __future__ import annotations

import contextlib
import io
import json
import math

import pytest

from model_server.eval.evaluate_synthesis import main

from .tiny_corpus import ALSA, build_tiny_corpus

SECTIONS = ("Held-out synthetic", "Instruction following", "Disentanglement", "Real human speech")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    if not (ALSA / "Front_Center.wav").exists():
        pytest.fail("real speech clips missing: apt-get install alsa-utils (scripts/setup.sh does this)")
    folder = tmp_path_factory.mktemp("eval")
    corpus = build_tiny_corpus(folder / "corpus")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["--corpus", str(corpus), "--json", str(folder / "eval.json"), "--weights", str(folder / "no-weights"),
                     "--speech-dir", str(ALSA)])
    assert code == 0
    return printed.getvalue(), json.loads((folder / "eval.json").read_text())


def section(result: dict, title: str) -> dict:
    return next(s for s in result["sections"] if s["title"].startswith(title))


def test_table_has_every_section_with_a_baseline_row(report):
    printed, result = report
    for title in SECTIONS:
        assert f"### {title}" in printed
        assert "baseline" in section(result, title)["rows"]
    assert "| baseline |" in printed
    assert "learned model skipped" in printed and "learned" not in section(result, "Held-out synthetic")["rows"]


def test_baseline_numbers_are_finite_where_they_apply(report):
    _, result = report
    held_out = section(result, "Held-out synthetic")["rows"]["baseline"]
    vertex_metrics = ("LVE demo head (mm²)", "LVE FLAME (mm²)", "FDD demo head (1e-5 m)", "FDD FLAME (1e-5 m)")
    assert set(vertex_metrics) <= set(held_out)
    assert all(math.isfinite(held_out[name]) for name in vertex_metrics)
    assert held_out["LVE demo head (mm²)"] > 0  # the tiny corpus's ground truth is not the baseline's motion
    disentangle = section(result, "Disentanglement")["rows"]["baseline"]
    assert disentangle["jawOpen corr"] >= 0.9  # the instruction must not move the lip timing
    assert disentangle["upper-face diff"] > 0  # but it does change the upper face
    assert 0 <= section(result, "Instruction following")["rows"]["baseline"]["emotion accuracy"] <= 1
    speech = section(result, "Real human speech")["rows"]["baseline"]
    assert math.isfinite(speech["SLCC"]) and speech["jawOpen at open vowels"] > 0
    assert result["timing"]["total (s)"] > 0
