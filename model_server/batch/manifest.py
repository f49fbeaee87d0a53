"""The batch manifest: one dialogue line per CSV row or per JSON line, checked line by line.

Columns (CSV header) or keys (JSON lines); only `audio` is required:
    id           name of the line's output files (letters, digits, . _ -); default: the audio file's stem
                 with other characters as _
    audio        speech file, relative to the manifest's folder unless absolute
    transcript   the dialogue text (forced alignment instead of recognition)
    language     auto (empty: told from the speech), en, or a language code eSpeak NG speaks (fr, es, ru …)
    instruction  the visual instruction for the whole line; empty: the agent writes one
    segments     per-segment instructions: a JSON list of {"start", "end", "instruction"}
    seed, fps    the take's seed (default 0) and the curves' frame rate (default 25)
    head_motion  how much the head moves with the voice, 0 (still) to 2 (default 1)
    gaze         where eye contact is: camera or forward (default), YAW,PITCH in degrees, or X,Y,Z metres
    start, end   seconds into the audio file to animate (default: all of it)
    character    whose line it is (the character or target name), kept in the summary

A bad line is refused with its reason and the others go on; a manifest that cannot be read at all (an
unknown column, not CSV or JSON lines) stops the batch before it starts.
"""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..config import DEFAULT_FPS, MAX_SEED
from ..audio.languages import checked_language
from ..audio.loading import check_audio_header
from ..errors import InputError, path_problem
from ..nonverbal.options import nonverbal_options

FIELDS = ("id", "audio", "transcript", "language", "instruction", "segments", "seed", "fps", "start", "end",
          "character", "head_motion", "gaze")
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


@dataclass(frozen=True)
class BatchLine:
    number: int  # 1-based line (CSV: data row) of the manifest, for messages and the summary
    id: str
    audio: Path
    transcript: str | None = None
    language: str = "auto"
    instruction: str | None = None
    segments: list[dict] | None = field(default=None, hash=False)
    seed: int = 0
    fps: float = DEFAULT_FPS
    start: float | None = None
    end: float | None = None
    character: str = ""
    head_motion: float = 1.0
    gaze: str = "camera"

    def inputs(self) -> dict:
        """What the line asks for, as plain JSON (the resume fingerprint hashes it)."""
        values = asdict(self)
        values["audio"] = str(self.audio)
        del values["number"]
        return values


@dataclass(frozen=True)
class RefusedLine:
    number: int
    id: str
    reason: str
    character: str = ""


def read_manifest(path: Path) -> tuple[list[BatchLine], list[RefusedLine]]:
    """The manifest's usable lines and the refused ones, in manifest order."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the manifest {path.name}: {getattr(exc, 'strerror', None) or exc}") from exc
    rows = _json_lines(text) if _looks_like_json_lines(path, text) else _csv_rows(text)
    lines, refused, seen = [], [], {}
    for number, row in rows:
        try:
            line = _line(number, row, path.parent)
            if line.id in seen:
                raise InputError(f"id {line.id!r} is already used by line {seen[line.id]}")
            seen[line.id] = number
            lines.append(line)
        except InputError as exc:
            named = row if isinstance(row, dict) else {}
            refused.append(RefusedLine(number, str(named.get("id") or ""), str(exc), str(named.get("character") or "")))
    if not lines and not refused:
        raise InputError(f"the manifest {path.name} has no lines")
    return lines, refused


def _looks_like_json_lines(path: Path, text: str) -> bool:
    return path.suffix.lower() in (".jsonl", ".ndjson", ".json") or text.lstrip().startswith("{")


def _json_lines(text: str) -> list[tuple[int, dict | str]]:
    rows = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as exc:
            rows.append((number, f"not a JSON object ({exc.msg} at column {exc.colno})"))
            continue
        rows.append((number, row if isinstance(row, dict) else "not a JSON object"))
    return rows


def _csv_rows(text: str) -> list[tuple[int, dict]]:
    reader = csv.DictReader(text.splitlines())
    header = [name.strip() for name in reader.fieldnames or []]
    unknown = [name for name in header if name not in FIELDS]
    if unknown or "audio" not in header:
        raise InputError(f"the manifest's header must name an 'audio' column and only these: {', '.join(FIELDS)}"
                         + (f" (unknown: {', '.join(unknown)})" if unknown else ""))
    rows = []
    for number, row in enumerate(reader, start=1):
        if None in row:
            rows.append((number, f"{len(row[None])} more cells than the header has columns"))
            continue
        rows.append((number, {key.strip(): value for key, value in row.items() if value not in (None, "")}))
    return rows


def _line(number: int, row: dict | str, folder: Path) -> BatchLine:
    if isinstance(row, str):
        raise InputError(row)
    unknown = sorted(set(row) - set(FIELDS))
    if unknown:
        raise InputError(f"unknown field(s) {', '.join(unknown)}; a line may have: {', '.join(FIELDS)}")
    audio = _text(row, "audio")
    if not audio:
        raise InputError("no audio file named")
    # Absolute: workers elsewhere (a Ray node, another working folder) read the same file.
    audio_path = (Path(audio) if Path(audio).is_absolute() else folder / audio).absolute()
    try:
        found = audio_path.is_file()
    except (OSError, ValueError) as exc:  # a name too long for the file system, a NUL byte, a loop of links
        raise InputError(f"audio {str(audio)[:80]!r}: cannot open this path ({path_problem(exc)})") from None
    if not found:
        raise InputError(f"no such audio file: {str(audio_path)[:200]}")
    check_audio_header(audio_path)  # before the resume fingerprint hashes gigabytes of something else
    line_id = _text(row, "id") or _id_from(audio_path.stem, number)
    if not _SAFE_ID.fullmatch(line_id):
        raise InputError(f"id {line_id[:60]!r} cannot name a file: use letters, digits, '.', '_' and '-' "
                         "(up to 100, starting with a letter or digit)")
    if line_id.lower() in RESERVED_IDS:
        raise InputError(f"id {line_id!r} is the name of the batch's own {line_id.lower()}.json and .csv: "
                         "give the line another id")
    language = checked_language(_text(row, "language"))
    seed = _number(row, "seed", int, 0)
    if not 0 <= seed <= MAX_SEED:
        raise InputError(f"seed must be a whole number from 0 to {MAX_SEED}, got {seed}")
    fps = _number(row, "fps", float, DEFAULT_FPS)
    if not 0 < fps <= 240:
        raise InputError(f"fps must be between 0 and 240, got {fps:g}")
    head_motion = _number(row, "head_motion", float, 1.0)
    gaze = _text(row, "gaze") or "camera"
    nonverbal_options(head_motion, gaze)  # refused now, with its reason, not as a failed line
    return BatchLine(number=number, id=line_id, audio=audio_path, transcript=_text(row, "transcript"),
                     language=language, instruction=_text(row, "instruction"), segments=_segments(row),
                     seed=seed, fps=fps, start=_number(row, "start", float, None),
                     end=_number(row, "end", float, None), character=_text(row, "character") or "",
                     head_motion=head_motion, gaze=gaze)


RESERVED_IDS = frozenset({"summary"})  # the batch's own files: summary.json, summary.csv


def _id_from(stem: str, number: int) -> str:
    """A file name's stem as an id: "Intro 01 (take 2)" → "Intro_01_take_2"."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._-")[:100]
    return safe or f"line{number}"


def _text(row: dict, key: str) -> str | None:
    value = row.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(f"{key} must be text, got {type(value).__name__}")
    return value.strip() or None


def _number(row: dict, key: str, kind: type, default):
    value = row.get(key)
    if value is None or value == "":
        return default
    try:
        number = kind(value) if kind is float else int(str(value).strip())
    except (TypeError, ValueError):
        raise InputError(f"{key} must be a {'whole ' if kind is int else ''}number, got {str(value)[:40]!r}") from None
    if kind is float and not math.isfinite(number):
        raise InputError(f"{key} must be a finite number, got {value!r}")
    return number


def _segments(row: dict) -> list[dict] | None:
    value = row.get("segments")
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise InputError(f"segments must be a JSON list ({exc.msg})") from None
    if not isinstance(value, list) or not all(isinstance(s, dict) and {"start", "end"} <= set(s) for s in value):
        raise InputError('segments must be a list of {"start": s, "end": s, "instruction": text}')
    checked = []
    for index, segment in enumerate(value, start=1):
        times = [_number(segment, key, float, None) for key in ("start", "end")]
        if None in times:
            raise InputError(f"segment {index}: start and end must be numbers of seconds")
        start, end = times
        if start < 0 or end <= start:
            raise InputError(f"segment {index}: it must start at 0 s or later and end after it starts "
                             f"({start:g} to {end:g} s)")
        instruction = segment.get("instruction", "")
        if not isinstance(instruction, str):
            raise InputError(f"segment {index}: instruction must be text")
        checked.append({"start": start, "end": end, "instruction": instruction})
    return checked
