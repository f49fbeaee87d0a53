"""The curves format: what the writer accepts is exactly what the reader accepts."""

from __future__ import annotations

import copy

import pytest

from model_server.arkit import ARKIT_NAMES
from model_server.curves import CurvesFormatError, build_curves, load_curves, num_frames_for, save_curves


def small_fields(frames: int = 3) -> dict:
    return dict(
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


SMALL = small_fields()


def small_curves(frames: int = 3) -> dict:
    return build_curves(**small_fields(frames))


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


def test_files_without_head_eyes_or_the_eyes_layer_still_read(tmp_path):
    # A file of the version before head and eye motion: no head, no eyes, three layers.
    old = small_curves()
    zeros = [[0.0] * 52 for _ in range(3)]
    old["arkit"]["layers"] = {"lips": zeros, "expression": zeros, "blinks": zeros}
    old["flame"]["layers"] = {name: {"expression": [[0.0] * 50] * 3, "jaw": [[0.0] * 3] * 3}
                              for name in ("lips", "expression", "blinks")}
    save_curves(old, tmp_path / "old.json")
    assert "head" not in load_curves(tmp_path / "old.json")


def test_head_and_eye_blocks_are_checked():
    curves = build_curves(**{**SMALL, "head": {"rotation": [[0.0, 0.1, 0.0]] * 3, "translation": [[0.0] * 3] * 3},
                             "eyes": {"left": [[0.1, 0.0]] * 3, "right": [[0.1, 0.0]] * 3},
                             "flame_neck": [[0.0] * 3] * 3, "flame_eyes": [[0.0] * 6] * 3})
    assert curves["head"]["rotation"][0] == [0.0, 0.1, 0.0] and len(curves["flame"]["eyes"][0]) == 6
    for broken, fragment in ((dict(curves, head={"rotation": [[0.0] * 3] * 2, "translation": [[0.0] * 3] * 3}),
                              "head.rotation"),
                             (dict(curves, eyes={"left": [[0.0, 0.0, 0.0]] * 3, "right": [[0.0] * 2] * 3}), "eyes.left")):
        with pytest.raises(CurvesFormatError, match=fragment):
            save_curves(broken, "/dev/null")
