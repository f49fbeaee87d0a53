"""The CLI exactly as batch users and later checks call it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from model_server.agent.grammar import is_grammatical
from model_server.curves import load_curves

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "model_server", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def test_instruct_prints_instruction_segments_and_transcript(front_center_wav):
    done = run_cli("instruct", str(front_center_wav), "--transcript", "front center")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert "person speaks with" in result["instruction"]
    assert result["transcript"].lower() == "front center" and result["transcript_source"] == "given"
    assert all({"start", "end", "instruction"} <= s.keys() for s in result["segments"])


def test_instruct_without_the_text_prints_the_words_it_heard(front_center_wav):
    done = run_cli("instruct", str(front_center_wav), "--agent", "baseline", "--quiet")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["transcript_source"] == "recognized" and result["alignment_method"] == "recognition"
    assert result["transcript"].strip(".").lower() == "front center"


def test_animate_writes_a_valid_curves_file_with_the_given_instruction(front_center_wav, tmp_path):
    out = tmp_path / "curves.json"
    instruction = "A sad person speaks with inner brow quite raised and lip corners pulled down."
    done = run_cli("animate", str(front_center_wav), "--transcript", "front center",
                   "--instruction", instruction, "--seed", "7", "--fps", "24", "-o", str(out))
    assert done.returncode == 0, done.stderr
    curves = load_curves(out)
    assert curves["instruction"] == instruction and curves["fps"] == 24.0
    assert "%" in done.stderr  # progress went to stderr


def test_bad_audio_exits_2_with_a_message(tmp_path):
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF1234WAVEjunk")
    done = run_cli("animate", str(broken), "-o", str(tmp_path / "x.json"))
    assert done.returncode == 2
    assert done.stderr.startswith("error:") and "broken.wav" in done.stderr
    assert not (tmp_path / "x.json").exists()


def test_animate_writes_live_link_csvs_beside_the_curves(front_center_wav, tmp_path):
    import csv

    done = run_cli("animate", str(front_center_wav), "--transcript", "front center", "--samples", "2",
                   "--instruction", "A happy person speaks.", "--live-link", str(tmp_path / "line.csv"),
                   "-o", str(tmp_path / "line.json"))
    assert done.returncode == 0, done.stderr
    for csv_name, curves_name in (("line.csv", "line.json"), ("line.take2.csv", "line.take2.json")):
        rows = list(csv.reader((tmp_path / csv_name).open()))
        curves = load_curves(tmp_path / curves_name)
        assert rows[0][:3] == ["Timecode", "BlendShapeCount", "EyeBlinkLeft"] and len(rows) - 1 == curves["num_frames"]
        jaw = rows[0].index("JawOpen")
        expected = [row[curves["arkit"]["names"].index("jawOpen")] for row in curves["arkit"]["weights"]]
        assert [float(r[jaw]) for r in rows[1:]] == [round(v, 6) for v in expected]


def test_hostile_arguments_exit_2_with_a_message_and_no_traceback(front_center_wav, tmp_path):
    out = tmp_path / "x.json"
    for args, fragment in (([str(tmp_path / ("a" * 300 + ".wav"))], "File name too long"),
                           (["/tmp/" + "a" * 5000], "File name too long"),
                           ([str(front_center_wav), "--seed", "-1"], "seed must be"),
                           ([str(front_center_wav), "--flame-model", str(front_center_wav)], "cannot read as a FLAME")):
        done = run_cli("animate", *args, "--instruction", "A neutral person speaks.", "-o", str(out))
        assert done.returncode == 2 and fragment in done.stderr, done.stderr[-2000:]
        assert "Traceback" not in done.stderr and not out.exists()


def test_animate_with_samples_writes_one_file_per_take(front_center_wav, tmp_path):
    out = tmp_path / "line.json"
    done = run_cli("animate", str(front_center_wav), "--transcript", "front center", "--seed", "4",
                   "--samples", "3", "--guidance", "1.5", "--synthesis", "baseline", "-o", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    paths = [out, tmp_path / "line.take2.json", tmp_path / "line.take3.json"]
    assert sorted(tmp_path.iterdir()) == sorted(paths)
    takes = [load_curves(path) for path in paths]
    assert [t["model"]["take"] for t in takes] == [
        {"index": k + 1, "seed": 4 + k, "guidance": 1.5, "style": "sampled" if k else "typical"} for k in range(3)]
    assert len({t["num_frames"] for t in takes}) == 1
    assert all(str(path) in done.stdout for path in paths)  # what was written is printed


def test_samples_out_of_range_exits_2_and_writes_nothing(front_center_wav, tmp_path):
    done = run_cli("animate", str(front_center_wav), "--samples", "0", "-o", str(tmp_path / "x.json"))
    assert done.returncode == 2 and done.stderr.startswith("error:") and "samples" in done.stderr
    assert not list(tmp_path.iterdir())


def test_instruct_through_a_local_chat_endpoint(front_center_wav):
    from tests.model_server.agent.test_endpoint_agent import ChatServer

    with ChatServer() as server:
        done = run_cli("instruct", str(front_center_wav), "--transcript", "front center",
                       "--agent", "endpoint", "--agent-url", server.url, "--agent-model", "local")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["instruction"].startswith("A fairly sad person speaks with")
    prompts = [r["messages"][1]["content"].lower() for r in server.requests]
    assert any('"front center"' in p for p in prompts)  # the whole clip, besides each segment
    missing_url = run_cli("instruct", str(front_center_wav), "--agent", "endpoint")
    assert missing_url.returncode == 2 and "--agent-url" in missing_url.stderr


def test_instruct_with_the_learned_agent_on_a_given_language_model(front_center_wav, tiny_agent_dir, tiny_lm_dir):
    done = run_cli("instruct", str(front_center_wav), "--transcript", "front center", "--agent", "learned",
                   "--agent-weights", str(tiny_agent_dir), "--lm", str(tiny_lm_dir))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert is_grammatical(result["instruction"]) and all(is_grammatical(s["instruction"]) for s in result["segments"])
    missing = run_cli("instruct", str(front_center_wav), "--agent", "learned", "--agent-weights", str(tiny_agent_dir / "none"))
    assert missing.returncode == 2 and "train_agent" in missing.stderr


def test_animate_in_french_and_a_language_without_a_voice(asterisk_recording, tmp_path):
    path, text = asterisk_recording("agent-pass", "fr")
    out = tmp_path / "fr.json"
    done = run_cli("animate", str(path), "--transcript", text, "--language", "fr", "--instruction",
                   "A neutral person speaks with relaxed face.", "-o", str(out), "--quiet")
    assert done.returncode == 0, done.stderr[-2000:]
    curves = json.loads(out.read_text())
    assert (curves["language"], curves["phoneme_source"]) == ("fr", "espeak-ng")
    refused = run_cli("animate", str(path), "--language", "tlh", "-o", str(tmp_path / "x.json"))
    assert refused.returncode == 2 and "eSpeak NG has no voice" in refused.stderr and "Traceback" not in refused.stderr
    assert not (tmp_path / "x.json").exists()


def test_an_unknown_agent_dtype_is_refused_before_any_work(front_center_wav, monkeypatch):
    monkeypatch.setenv("AVI_TALKING_AGENT_DTYPE", "half")
    done = run_cli("animate", str(front_center_wav), "-o", "unused.json")
    assert done.returncode == 2 and "unknown dtype 'half'" in done.stderr
    assert "recognizing speech" not in done.stderr  # stopped before the audio was read


def test_animate_takes_a_head_motion_amount_and_a_gaze_target(front_center_wav, tmp_path):
    out = tmp_path / "still.json"
    done = run_cli("animate", str(front_center_wav), "--transcript", "front center", "--instruction",
                   "A neutral person speaks with relaxed face.", "--head-motion", "0", "--gaze=-10,0",
                   "--quiet", "-o", str(out))
    assert done.returncode == 0, done.stderr
    curves = load_curves(out)
    assert all(v == 0 for row in curves["head"]["rotation"] for v in row)
    left = sorted(row[0] for row in curves["eyes"]["left"])
    assert abs(left[len(left) // 2] + 0.1745) < 0.03  # eye contact 10° to the speaker's right
    for option, value, fragment in (("--head-motion", "5", "head motion must be between 0 and 2"),
                                    ("--gaze", "behind", "give camera, forward")):
        done = run_cli("animate", str(front_center_wav), option, value, "--quiet", "-o", str(tmp_path / "x.json"))
        assert done.returncode == 2 and fragment in done.stderr


def test_the_dialogue_text_can_come_from_a_file_and_a_file_name_is_never_aligned_as_words(tmp_path):
    demo, text_file = REPO / "assets" / "demo_speech.wav", REPO / "assets" / "demo_speech.txt"
    out = tmp_path / "curves.json"
    done = run_cli("animate", str(demo), "--transcript", str(text_file), "--instruction", "A calm person speaks.",
                   "-o", str(out), "--quiet")
    assert done.returncode == 2 and "--transcript-file" in done.stderr and not out.exists()
    done = run_cli("animate", str(demo), "--transcript-file", str(text_file), "--instruction", "A calm person speaks.",
                   "-o", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    curves = load_curves(out)
    assert curves["transcript_source"] == "given" and curves["transcript"] == text_file.read_text().strip()
    assert "warning" not in done.stderr
    huge = tmp_path / "huge.txt"
    huge.write_text("word " * 10_000)
    done = run_cli("instruct", str(demo), "--transcript-file", str(huge), "--quiet")
    assert done.returncode == 2 and "characters" in done.stderr
    huge.write_bytes(b"\xe2\x82\xac" * 40_000)  # 120 kB: refused before it is decoded, mid-character or not
    done = run_cli("instruct", str(demo), "--transcript-file", str(huge), "--quiet")
    assert done.returncode == 2 and "characters" in done.stderr
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("Caf\xe9 au lait".encode("latin-1"))
    done = run_cli("instruct", str(demo), "--transcript-file", str(latin), "--quiet")
    assert done.returncode == 2 and "cannot read the dialogue text" in done.stderr


def test_a_dialogue_text_that_is_not_what_is_said_is_reported_and_not_used(tmp_path):
    out = tmp_path / "curves.json"
    done = run_cli("animate", str(REPO / "assets" / "demo_speech.wav"), "--transcript", "assets demo speech txt",
                   "--instruction", "A calm person speaks.", "-o", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    curves = load_curves(out)
    assert curves["transcript_source"] == "recognized" and "harbo" in curves["transcript"].lower()
    assert "warning: the dialogue text does not fit this audio" in done.stderr
