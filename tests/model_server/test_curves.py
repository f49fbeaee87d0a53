"""The curves format: what the writer accepts is exactly what the reader accepts."""

from __future__ import annotations

import copy

import pytest

from model_server.arkit import ARKIT_NAMES
from model_server.curves import CurvesFormatError, build_curves, load_curves, num_frames_for, save_curves


def small_curves(frames: int = 3) -> dict:
    return build_curves(
        fps=25.0,
        arkit_weights=[[0.0] * 52 for _ in range(frames)],
        flame_expression=[[0.0] * 50 for _ in range(frames)],
        flame_jaw=[[0.1, 0.0, 0.0] for _ in range(frames)],
        instruction="A neutral person speaks with relaxed face.",
        segments=[{"start": 0.0, "end": 0.1, "instruction": "A neutral person speaks with relaxed face."}],
        transcript="hi",
        phones=[{"phone": "HH", "start": 0.0, "end": 0.05}],
        model={"synthesis": "test"},
    )


def test_round_trip_through_a_file(tmp_path):
    curves = small_curves()
    save_curves(curves, tmp_path / "c.json")
    assert load_curves(tmp_path / "c.json") == curves
    assert curves["arkit"]["names"] == list(ARKIT_NAMES)


@pytest.mark.parametrize("breakage, message", [
    (lambda c: c.update(format="other"), "not a curves file"),
    (lambda c: c.update(version=2), "version"),
    (lambda c: c["flame"]["expression"].pop(), "flame.expression"),
    (lambda c: c["flame"]["jaw"][0].append(0.0), "flame.jaw[0]"),
    (lambda c: c["arkit"]["weights"][1].__setitem__(0, float("nan")), "finite"),
    (lambda c: c["arkit"]["names"].reverse(), "ARKit order"),
    (lambda c: c.update(segments=[{"start": 0}]), "segment"),
    (lambda c: c.update(fps=0), "fps"),
])
def test_invalid_documents_are_refused_with_a_precise_message(breakage, message):
    curves = copy.deepcopy(small_curves())
    breakage(curves)
    with pytest.raises(CurvesFormatError, match=message.replace("[", r"\[").replace("]", r"\]")):
        save_curves(curves, "/dev/null")


def test_unreadable_file_is_a_format_error(tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(CurvesFormatError, match="cannot read"):
        load_curves(tmp_path / "bad.json")


@pytest.mark.parametrize("duration, fps, frames", [(1.0, 25, 25), (1.01, 25, 26), (0.001, 30, 1), (2.0, 29.97, 60)])
def test_frames_cover_the_whole_clip(duration, fps, frames):
    assert num_frames_for(duration, fps) == frames


def test_language_and_phoneme_source_are_recorded_and_checked():
    from model_server.curves import validate_curves

    curves = small_curves()
    assert (curves["language"], curves["phoneme_source"]) == ("en", "pocketsphinx")
    for field, value in (("phoneme_source", "guesswork"), ("language", 5)):
        with pytest.raises(CurvesFormatError, match="phoneme_source"):
            validate_curves(dict(curves, **{field: value}))
    older = {k: v for k, v in curves.items() if k not in ("language", "phoneme_source")}
    validate_curves(older)  # files written before the fields existed still read
