"""The real-recordings evaluation command on a few real clips: every table, check and clip figure it promises."""

from __future__ import annotations

import json
import shutil

import pytest

from model_server.eval.evaluate_real_speech import PATHS, main, open_lip_notes
from model_server.synthesis.registry import LEARNED_WEIGHTS_DIR

FRAME_RATES = ("24", "30")


@pytest.fixture(scope="module")
def report(tmp_path_factory, asterisk_recording):
    folder = tmp_path_factory.mktemp("speech") / "own"
    folder.mkdir()
    path, transcript = asterisk_recording("agent-pass")  # "Please enter your password followed by the pound key."
    shutil.copy(path, folder / "line.wav")
    (folder / "line.txt").write_text(transcript)
    out = tmp_path_factory.mktemp("report")
    card = out / "MODEL_CARD.md"
    shutil.copy(LEARNED_WEIGHTS_DIR / "MODEL_CARD.md", card)
    code = main(["--source", "alsa", "--limit", "2", "--speech-dir", str(folder), "--fps", *FRAME_RATES,
                 "--cache", str(out / "cache"), "--json", str(out / "real.json"), "--card", str(card)])
    assert code == 0
    return json.loads((out / "real.json").read_text()), card.read_text()


def test_every_clip_is_scored_for_each_path_rate_and_model(report):
    result, _ = report
    assert result["sources"] == {"alsa": 2, "own": 1}
    rows = ("baseline", "learned", "learned, take 2")
    for clip in result["clips"]:
        assert {f"{p}|{f}|{m}" for p in PATHS for f in FRAME_RATES for m in rows} == set(clip["scores"])
        assert clip["heard_method"] == "recognition"


def test_pooled_tables_hold_the_guarantee_and_the_recognition_figures(report):
    result, _ = report
    with_text = result["tables"][PATHS[0]]["rows"]
    for fps in FRAME_RATES:
        for model in ("learned", "learned, take 2", "baseline"):
            row = with_text[f"{model}, {fps} fps"]
            assert row["/p b m/"] == 4 and row["/p b m/ closure"] == 1.0  # please, password, by, pound
            assert row["open-vowel opening"] > 0.2 and row["jitter (1/s²)"] > 0
    recognition = result["tables"]["recognition"]["rows"]["recogniser + alignment"]
    assert recognition["word error rate"] <= 0.2 and recognition["phones recovered"] >= 0.8
    assert any("closure without text within" in c["what"] for c in result["checks"])


def test_the_learned_model_is_judged_against_the_baseline_on_every_lip_figure(report):
    result, _ = report
    against = [c for c in result["checks"] if "baseline's" in c["what"]]
    for figure in ("/p b m/ closure", "/f v/ tucked", "open-vowel opening", "rounding", "jitter"):
        assert sum(figure in c["what"] for c in against) == len(PATHS) * len(FRAME_RATES), figure
    # It speaks with the rules' lips (synthesis/rule_lips.py): never below the baseline, on any clip.
    assert all(c["holds"] is not False for c in against) and any(c["holds"] for c in against)


def test_the_model_card_gets_its_own_section_beside_the_synthetic_evaluation(report):
    _, card = report
    assert "## Real recordings" in card and "<!-- real-speech:start -->" in card
    assert "Held-out synthetic" in card  # the synthetic evaluation's tables are kept
    assert "python -m model_server.eval.evaluate_real_speech" in card


def test_clips_where_lips_stay_open_are_named():
    clip = {"key": "own/line", "transcript": "bob", "heard": "bob",
            "scores": {f"{p}|25|learned": {"closed": 1, "bilabials": 2} for p in PATHS}}
    notes = open_lip_notes([clip], [("learned", None, False)], (25.0,))
    assert len(notes) == 2 and all("1 of 2 /p b m/ in own/line" in n for n in notes)
