"""A listener's face over a real line: mouth closed, blinks, eye contact on the speaker, nods as the
speaker's phrases end, and a subdued echo of the speaker's emotion; over the API too."""

from __future__ import annotations

import numpy as np
import pytest

from model_server.arkit import ARKIT_INDEX
from model_server.audio.loading import load_audio
from model_server.nonverbal.accents import find_phrases
from model_server.nonverbal.compose import GazeTarget, NonverbalOptions

HAPPY = "A very happy person speaks with lip corners strongly pulled up and cheeks quite raised."


@pytest.fixture(scope="module")
def speaker(pipeline, asterisk_recording):
    path, transcript = asterisk_recording("conf-adminmenu-162")
    audio = load_audio(path)
    return pipeline(audio, transcript=transcript, instruction=HAPPY), audio.duration


def test_a_listener_keeps_its_mouth_shut_blinks_nods_and_echoes(pipeline, speaker):
    from model_server.audio.types import Phone

    line, duration = speaker
    phones = [Phone(p["phone"], p["start"], p["end"]) for p in line["phones"]]
    listener = pipeline.listening(phones, line["segments"], duration, fps=25.0, seed=4)
    weights = np.array(listener["arkit"]["weights"])
    assert listener["num_frames"] == line["num_frames"] and listener["phones"] == []
    for name in ("jawOpen", "mouthFunnel", "mouthPucker", "mouthLowerDownLeft", "mouthClose"):
        assert weights[:, ARKIT_INDEX[name]].max() == 0.0  # a relaxed, closed mouth
    assert weights[:, ARKIT_INDEX["eyeBlinkLeft"]].max() > 0.9
    smile = weights[:, ARKIT_INDEX["mouthSmileLeft"]]
    spoken = np.array(line["arkit"]["weights"])[:, ARKIT_INDEX["mouthSmileLeft"]]
    assert 0.05 < smile.max() < 0.5 * spoken.max()  # the speaker's joy, subdued
    pitch = np.degrees(np.array(listener["head"]["rotation"]))[:, 0]
    ends = [p.end for p in find_phrases(phones)]
    nods = [pitch[int(end * 25):int((end + 0.8) * 25)].max() - pitch[max(0, int((end - 0.3) * 25))] for end in ends]
    assert np.mean(nods) > 0.5  # a nod (down) after the speaker's phrases end
    gaze = np.degrees(np.array(listener["eyes"]["left"]) + np.array(listener["head"]["rotation"])[:, [1, 0]])
    assert (np.linalg.norm(gaze, axis=1) < 3.0).mean() > 0.6  # on the speaker most of the time


def test_a_listener_looks_where_the_speaker_is(pipeline, speaker):
    from model_server.audio.types import Phone

    line, duration = speaker
    phones = [Phone(p["phone"], p["start"], p["end"]) for p in line["phones"]]
    walking = GazeTarget.from_points([[0.3, 0.0, 1.0], [-0.3, 0.0, 1.0]])  # the speaker crosses from left to right
    listener = pipeline.listening(phones, line["segments"], duration, fps=25.0, seed=4,
                                  nonverbal=NonverbalOptions(gaze=walking))
    yaw = np.degrees(np.array(listener["eyes"]["left"])[:, 0] + np.array(listener["head"]["rotation"])[:, 1])
    frames = len(yaw)
    assert np.median(yaw[: frames // 5]) > 10 and np.median(yaw[-frames // 5:]) < -10
