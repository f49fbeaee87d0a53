"""The fit check's evaluation on ALSA's real channel announcements: each line's own text fits, and the
command prints the figures the fit check's documentation quotes."""

from __future__ import annotations

import re

from model_server.eval.evaluate_transcript_fit import main


def test_own_texts_fit_and_the_figures_are_printed(capsys, tmp_path):
    assert main(["--source", "alsa", "--cache", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    own = re.search(r"own text\s+(\d+) lines,\s+(\d+) not aligned.*below 0\.60: (\d+)", out)
    assert own and int(own[1]) >= 5 and own[2] == "0" and own[3] == "0"
    assert re.search(r"another line's text animating the line: \d+ of \d+ without the check, \d+ with it", out)


def test_too_few_recordings_is_an_error(tmp_path, capsys):
    assert main(["--source", "alsa", "--limit", "1", "--cache", str(tmp_path)]) == 2
    assert "fewer than two" in capsys.readouterr().err
