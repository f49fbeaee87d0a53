"""Model cards keep every evaluation's section when training rewrites them, and each evaluation replaces only its own."""

from __future__ import annotations

from model_server.train.model_card import _write_card, write_evaluation, write_section


def test_sections_are_replaced_in_place_and_survive_a_rewritten_card(tmp_path):
    card = tmp_path / "MODEL_CARD.md"
    _write_card(card, ["# Model", "", "## Evaluation", "<!-- evaluation:start -->", "none yet",
                       "<!-- evaluation:end -->", ""])
    write_evaluation(card, "synthetic table v1")
    write_section(card, "real-speech", "## Real recordings", "real table v1")
    write_section(card, "real-speech", "## Real recordings", "real table v2")
    text = card.read_text()
    assert "synthetic table v1" in text and "real table v2" in text and "real table v1" not in text
    assert text.count("## Real recordings") == 1
    # Training writes the card anew: both evaluations stay until their commands run again.
    _write_card(card, ["# Model, retrained", "", "## Evaluation", "<!-- evaluation:start -->", "none yet",
                       "<!-- evaluation:end -->", ""])
    text = card.read_text()
    assert text.startswith("# Model, retrained")
    assert "synthetic table v1" in text and "real table v2" in text and "none yet" not in text
