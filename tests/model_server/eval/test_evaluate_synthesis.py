"""The evaluation command end to end on a tiny corpus: every section, finite numbers, JSON beside the table."""

from __future__ import annotations

import contextlib
import io
import json
import math

import pytest

from model_server.eval.evaluate_synthesis import main

from .tiny_corpus import ALSA, build_tiny_corpus

SECTIONS = ("Held-out synthetic", "Held-out LVE", "Instruction following", "Disentanglement", "Real human speech")


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
    vertex_metrics = ("LVE reference head (mm²)", "LVE FLAME (mm²)", "FDD reference head (1e-5 m)", "FDD FLAME (1e-5 m)")
    assert set(vertex_metrics) <= set(held_out)
    assert all(math.isfinite(held_out[name]) for name in vertex_metrics)
    assert held_out["LVE reference head (mm²)"] > 0  # the tiny corpus's ground truth is not the baseline's motion
    disentangle = section(result, "Disentanglement")["rows"]["baseline"]
    assert disentangle["jawOpen corr"] >= 0.9  # the instruction must not move the lip timing
    assert disentangle["upper-face diff"] > 0  # but it does change the upper face
    assert 0 <= section(result, "Instruction following")["rows"]["baseline"]["emotion accuracy"] <= 1
    speech = section(result, "Real human speech")["rows"]["baseline"]
    assert math.isfinite(speech["SLCC"]) and speech["jawOpen at open vowels"] > 0
    assert result["timing"]["total (s)"] > 0


def test_held_out_lve_is_split_by_how_the_heard_speech_aligned(report):
    _, result = report
    clips = int(section(result, "Held-out synthetic")["title"].split("split, ")[1].split(" clips")[0])
    by_timing = section(result, "Held-out LVE (mm², reference head) by how the heard speech aligned")
    counts = [int(column.rsplit("(", 1)[1].split(" clips")[0]) for column in by_timing["columns"][:2]]
    assert sum(counts) == clips
    row = by_timing["rows"]["baseline"]
    groups = [value for value, count in zip(list(row.values())[:2], counts) if count]
    assert groups and all(math.isfinite(v) and v >= 0 for v in groups)
    assert math.isfinite(row["median LVE, all clips"])
