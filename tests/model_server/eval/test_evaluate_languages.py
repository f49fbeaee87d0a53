"""evaluate_languages on a few real French prompts: the figures exist and can tell good timing from bad."""

from __future__ import annotations

import json

from model_server.eval.evaluate_languages import main


def test_french_prompts_are_scored_and_misplaced_bilabials_score_lower(tmp_path, capsys):
    out = tmp_path / "languages.json"
    main(["--languages", "fr", "--limit", "3", "--cache", str(tmp_path / "cache"), "--json", str(out)])
    result = json.loads(out.read_text())["fr"]
    paths = result["paths"]
    assert result["clips"] == 3 and result["language_told"] == 1.0
    assert paths["espeak dtw, text"]["bilabials"] >= 5
    assert paths["espeak dtw, text"]["heard"] > paths["espeak dtw, 0.3 s late"]["heard"] + 0.2
    assert paths["espeak dtw, text"]["closed"] >= 0.8  # the synthesis closes where the timing says
    assert "| fr | espeak dtw, text | 3 |" in capsys.readouterr().out
