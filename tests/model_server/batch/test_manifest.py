"""The batch manifest: CSV and JSON lines read line by line, bad lines refused with their reason."""

from __future__ import annotations

import json

import pytest

from model_server.batch.manifest import read_manifest
from model_server.errors import InputError


@pytest.fixture
def audio(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"RIFF")  # only its existence is checked here
    return "a.wav"


def test_an_id_is_made_from_the_audio_name_when_none_is_given(tmp_path):
    (tmp_path / "Intro 01 (take 2).wav").write_bytes(b"RIFF")
    (tmp_path / "ümlaut.wav").write_bytes(b"RIFF")
    manifest = tmp_path / "lines.jsonl"
    manifest.write_text('{"audio": "Intro 01 (take 2).wav"}\n{"audio": "ümlaut.wav"}\n')
    lines, refused = read_manifest(manifest)
    assert [line.id for line in lines] == ["Intro_01_take_2", "mlaut"] and refused == []


def test_csv_lines_take_their_defaults_and_paths_from_the_manifest_folder(tmp_path, audio):
    manifest = tmp_path / "lines.csv"
    manifest.write_text('id,audio,instruction,seed,fps,segments,character\n'
                        f'one,{audio},"A calm person speaks.",7,30,,Ann\n'
                        f',{audio},,,,"[{{""start"": 0, ""end"": 1, ""instruction"": ""x""}}]",\n')
    lines, refused = read_manifest(manifest)
    assert refused == []
    first, second = lines
    assert first.language == "auto"
    assert (first.id, first.audio, first.seed, first.fps, first.character) == ("one", tmp_path / audio, 7, 30.0, "Ann")
    assert first.instruction == "A calm person speaks." and first.transcript is None
    assert (second.id, second.seed, second.fps, second.language) == ("a", 0, 25.0, "auto")
    assert second.segments == [{"start": 0, "end": 1, "instruction": "x"}]


def test_bad_lines_are_refused_with_their_reason_and_the_rest_kept(tmp_path, audio):
    rows = [{"id": "ok", "audio": audio},
            {"id": "../../etc/passwd", "audio": audio},
            {"id": "ok", "audio": audio},
            {"audio": "missing.wav"},
            {"id": "tlh", "audio": audio, "language": "tlh"},
            {"id": "s", "audio": audio, "seed": -1},
            {"id": "f", "audio": audio, "fps": "fast"},
            {"id": "g", "audio": audio, "segments": "[1, 2]"},
            {"id": "u", "audio": audio, "speaker": "Bob"},
            {"id": "n", "audio": 5}]
    manifest = tmp_path / "lines.jsonl"
    manifest.write_text("\n".join(json.dumps(r) for r in rows) + "\n[1, 2]\n{not json\n\n")
    lines, refused = read_manifest(manifest)
    assert [line.id for line in lines] == ["ok"]
    reasons = {r.number: r.reason for r in refused}
    assert "cannot name a file" in reasons[2]
    assert "already used by line 1" in reasons[3]
    assert "no such audio file" in reasons[4]
    assert "eSpeak NG has no voice" in reasons[5]
    assert "from 0 to" in reasons[6]
    assert "fps must be a number" in reasons[7]
    assert "segments must be a list" in reasons[8]
    assert "unknown field(s) speaker" in reasons[9]
    assert "audio must be text" in reasons[10]
    assert "not a JSON object" in reasons[11] and "not a JSON object" in reasons[12]
    assert len(refused) == 11


def test_a_manifest_that_cannot_be_read_stops_before_any_line(tmp_path, audio):
    typo = tmp_path / "typo.csv"
    typo.write_text(f"audio,transcirpt\n{audio},hello\n")
    with pytest.raises(InputError, match="unknown: transcirpt"):
        read_manifest(typo)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(InputError, match="has no lines"):
        read_manifest(empty)
    with pytest.raises(InputError, match="cannot read the manifest"):
        read_manifest(tmp_path / "absent.csv")


def test_a_csv_row_with_more_cells_than_columns_is_refused(tmp_path, audio):
    manifest = tmp_path / "lines.csv"
    manifest.write_text(f"id,audio\nx,{audio},extra\ny,{audio}\n")
    lines, refused = read_manifest(manifest)
    assert [line.id for line in lines] == ["y"]
    assert refused[0].number == 1 and "more cells" in refused[0].reason


def test_head_motion_and_gaze_are_read_and_bad_ones_refused(tmp_path, audio):
    rows = [{"id": "still", "audio": audio, "head_motion": 0, "gaze": "10,-5"},
            {"id": "default", "audio": audio},
            {"id": "wild", "audio": audio, "head_motion": 3},
            {"id": "eyes", "audio": audio, "gaze": "0,0,0"},
            {"id": "where", "audio": audio, "gaze": "up there"}]
    manifest = tmp_path / "lines.jsonl"
    manifest.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    lines, refused = read_manifest(manifest)
    assert [(line.id, line.head_motion, line.gaze) for line in lines] == [("still", 0.0, "10,-5"),
                                                                           ("default", 1.0, "camera")]
    reasons = {r.number: r.reason for r in refused}
    assert "head motion must be between 0 and 2" in reasons[3]
    assert "at the eyes" in reasons[4] and "YAW,PITCH" in reasons[5]


def test_hostile_fields_are_refused_with_their_reason(tmp_path, audio):
    import time

    sparse = tmp_path / "huge.wav"
    with open(sparse, "wb") as handle:  # 20 GB of nothing, named like audio
        handle.truncate(20 * 1024 ** 3)
    rows = [{"id": "a", "audio": audio, "segments": [{"start": "abc", "end": 1, "instruction": "x"}]},
            {"id": "b", "audio": audio, "segments": [{"start": None, "end": 1}]},
            {"id": "c", "audio": audio, "segments": [[1]]},
            {"id": "d", "audio": audio, "segments": [{"start": 2, "end": 1, "instruction": "x"}]},
            {"id": "e", "audio": audio, "segments": [{"start": 0, "end": 1, "instruction": 5}]},
            {"id": "summary", "audio": audio},
            {"id": "Summary", "audio": audio},
            {"id": "f", "audio": str(sparse)}]
    manifest = tmp_path / "lines.jsonl"
    manifest.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    started = time.monotonic()
    lines, refused = read_manifest(manifest)
    assert time.monotonic() - started < 5  # the huge file is refused from its first bytes, not hashed
    reasons = {r.number: r.reason for r in refused}
    assert not lines and len(refused) == 8
    assert "start must be a number, got 'abc'" in reasons[1] and "start and end must be numbers" in reasons[2]
    assert "segments must be a list" in reasons[3]
    assert "end after it starts" in reasons[4] and "instruction must be text" in reasons[5]
    assert "the batch's own summary" in reasons[6] and "the batch's own summary" in reasons[7]
    assert "not an audio file" in reasons[8]


def test_seeded_hostile_manifests_refuse_line_by_line_and_never_raise(tmp_path, audio):
    """Hundreds of lines with any value in any field, as JSON lines and as CSV: each kept or refused with
    its reason; only a manifest that cannot be read at all stops the batch."""
    import csv as csv_module

    import numpy as np

    from model_server.batch.manifest import FIELDS

    rng = np.random.default_rng(20261207)
    pool = [None, "", " ", 0, -1, 2**63, 1e308, float("nan"), "inf", "abc", "=HYPERLINK(\"x\")", "../../x", "summary",
            [], {}, [1], [{"start": "abc", "end": 1}], [{"start": None}], "[1, 2]", '[{"start": 0, "end": 1}]',
            "\u0000", "x" * 5000, "a.wav", True]
    rows = []
    for number in range(300):
        row = {"audio": audio}
        for field in rng.choice(list(FIELDS), int(rng.integers(1, 4)), replace=False):
            row[str(field)] = pool[int(rng.integers(len(pool)))]
        rows.append(row)
    for kind in ("jsonl", "csv"):
        manifest = tmp_path / f"lines.{kind}"
        if kind == "jsonl":
            manifest.write_text("\n".join(json.dumps(r, default=str) for r in rows) + "\n")
        else:
            with open(manifest, "w", newline="") as out:
                writer = csv_module.DictWriter(out, fieldnames=sorted(FIELDS))
                writer.writeheader()
                writer.writerows([{k: json.dumps(v) if isinstance(v, (list, dict)) else v for k, v in r.items()}
                                  for r in rows])
        lines, refused = read_manifest(manifest)
        assert len(lines) + len(refused) == len(rows)
        assert all(r.reason and len(r.reason) < 400 for r in refused)
        assert len(refused) > 100 and lines, (kind, len(lines))
