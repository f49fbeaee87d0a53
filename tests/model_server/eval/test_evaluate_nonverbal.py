"""The nonverbal evaluation command on a few real recordings: every row printed, the held-still rows
still, and the table written into a model card."""

from __future__ import annotations

import io

from model_server.eval.evaluate_nonverbal import CARD_SECTION, evaluate


def test_the_nonverbal_table_is_printed_and_written_into_a_card(tmp_path):
    card = tmp_path / "MODEL_CARD.md"
    card.write_text("# A model\n")
    out = io.StringIO()
    result = evaluate(["asterisk", "alsa"], 2, tmp_path / "cache", None, out=out, cards=[card], pause_pairs=1)
    assert result["clips"] == 5  # 2 prompts, 2 alsa clips, and a pair joined by a pause
    rows = result["rows"]
    assert set(rows) == {f"{model}, {name}" for model in ("baseline", "learned")
                         for name in ("neutral", "aroused", "held still")}
    assert rows["baseline, held still"]["head std (pitch/yaw/roll °)"] == "0.00/0.00/0.00"
    moving = [float(v) for v in rows["baseline, aroused"]["head std (pitch/yaw/roll °)"].split("/")]
    assert min(moving) > 0.3 and rows["baseline, aroused"]["saccades / min"] > 10
    pause, speech = (float(v) for v in rows["baseline, neutral"]["°/s in long pauses / speech"].split(" / "))
    assert pause < speech
    assert "| baseline, neutral |" in out.getvalue() and "Targets:" in out.getvalue()
    assert f"<!-- {CARD_SECTION}:start -->" in card.read_text() and "evaluate_nonverbal" in card.read_text()
