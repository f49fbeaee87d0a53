"""The Live Link Face CSV layout: column order, timecodes, and reading back what was written."""

from __future__ import annotations

import pytest

from model_server.arkit import ARKIT_NAMES
from model_server.live_link import (HEADER, LIVE_LINK_SHAPES, LiveLinkFormatError, arkit_name, read_live_link_csv,
                                    timecode, write_live_link_csv)


def test_the_52_columns_are_the_arkit_names_in_the_apps_order():
    assert sorted(arkit_name(c) for c in LIVE_LINK_SHAPES) == sorted(ARKIT_NAMES)
    assert len(HEADER) == 63 and HEADER[:3] == ("Timecode", "BlendShapeCount", "EyeBlinkLeft")


@pytest.mark.parametrize("frame, fps, expected", [
    (0, 60.0, "00:00:00:00.000"), (59, 60.0, "00:00:00:59.000"), (60, 60.0, "00:00:01:00.000"),
    (25 * 3661, 25.0, "01:01:01:00.000"), (30, 30 / 1.001, "00:00:01:00.030"),
])
def test_timecodes_count_frames_within_the_second(frame, fps, expected):
    assert timecode(frame, fps) == expected


def test_what_is_written_reads_back_at_its_rate():
    frames = [{"jawOpen": i / 10, "mouthSmileLeft": 0.25} for i in range(11)]
    take = read_live_link_csv(write_live_link_csv(frames, 24.0), 24.0)
    assert take.times == pytest.approx([i / 24 for i in range(11)])
    assert list(take.values["jawOpen"]) == pytest.approx([i / 10 for i in range(11)])
    assert list(take.values["mouthSmileLeft"]) == pytest.approx([0.25] * 11)
    assert list(take.values["tongueOut"]) == [0.0] * 11
    assert (take.rate, take.rate_from) == (24.0, "given")  # under two seconds: the timecodes cannot tell


@pytest.mark.parametrize("fps", [24.0, 25.0, 30.0, 60.0])
def test_the_rate_is_read_from_the_timecodes(fps):
    frames = [{"jawOpen": (i % 7) / 7} for i in range(int(3 * fps))]
    take = read_live_link_csv(write_live_link_csv(frames, fps), 60.0)  # whatever rate is guessed
    assert (take.rate, take.rate_from) == (fps, "timecodes")
    assert take.times[-1] == pytest.approx((len(frames) - 1) / fps)


def hostile(rows: list[str], header=HEADER) -> str:
    return ",".join(header) + "\n" + "\n".join(rows) + "\n"


ZEROS = ",".join(["0"] * 62)  # BlendShapeCount, 52 shapes, 9 rotations


@pytest.mark.parametrize("text, fragment", [
    (hostile(["00:00:00:00.000," + ZEROS, "99999:00:00:00.000," + ZEROS]), "out of proportion"),
    (hostile(["00:00:00:inf," + ZEROS]), "timecode"),
    (hostile(["00:00:00:nan," + ZEROS]), "timecode"),
    (hostile(["00:00:00:00.000,61," + "1" * 200_000 + "," + ",".join(["0"] * 60)]), "not a number|CSV"),
    (hostile(["00:00:00:00.000,61," + "1" * 100 + "," + ",".join(["0"] * 60)]), "not a number"),
    (hostile(["00:00:00:00.000," + ZEROS + ",0"], header=HEADER + ("JawOpen",)), "appears twice"),
])
def test_hostile_files_are_refused_quickly(text, fragment):
    import time

    started = time.monotonic()
    with pytest.raises(LiveLinkFormatError, match=fragment):
        read_live_link_csv(text, 60.0)
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize("text, fragment", [
    ("", "Timecode"), ("Timecode,JawOpen\n", "only 1 ARKit"),
    (",".join(HEADER) + "\n" + "00:00:00:00.000,61\n", "columns"),
    (",".join(HEADER) + "\n", "no frames"),
    (",".join(HEADER) + "\nnot-a-time," + ",".join(["0"] * 62) + "\n", "timecode"),
])
def test_broken_files_are_refused_with_what_is_wrong(text, fragment):
    with pytest.raises(LiveLinkFormatError, match=fragment):
        read_live_link_csv(text, 60.0)


def test_head_and_eye_columns_carry_the_curves_head_and_eyes_and_read_back():
    from model_server.live_link import curves_to_live_link_csv

    frames = 4
    curves = {"fps": 25.0, "num_frames": frames, "arkit": {"names": list(ARKIT_NAMES), "weights": [[0.0] * 52] * frames},
              "head": {"rotation": [[0.05 * i, -0.1, 0.02] for i in range(frames)], "translation": [[0.0] * 3] * frames},
              "eyes": {"left": [[0.2, 0.1]] * frames, "right": [[0.25, 0.1]] * frames}}
    values = {name: list(series) for name, series in read_live_link_csv(curves_to_live_link_csv(curves), 25.0).values.items()}
    # Pitch + looks down, yaw + turns to the speaker's left: the app's own signs, in radians.
    assert values["HeadPitch"] == pytest.approx([0.05 * i for i in range(frames)])
    assert values["HeadYaw"] == pytest.approx([-0.1] * frames) and values["HeadRoll"] == pytest.approx([0.02] * frames)
    assert values["LeftEyeYaw"] == pytest.approx([0.2] * frames) and values["RightEyeYaw"] == pytest.approx([0.25] * frames)
    assert values["LeftEyePitch"] == pytest.approx([0.1] * frames) and values["LeftEyeRoll"] == [0.0] * frames
