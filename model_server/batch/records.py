"""What each line of a batch came to: its record (for resume) and the batch's summary.

OUT_DIR/.avi-batch/<id>.json holds a line's result once its files are written; a rerun skips a line
whose record says ok for the same fingerprint (the line's fields, its audio file's bytes, the
models and the outputs asked for) when its files are still there. summary.json and summary.csv list
every line of the manifest: ok, refused (with the reason) or failed (with the error).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

RECORDS = ".avi-batch"
STATUSES = ("ok", "refused", "failed")


@dataclass
class LineResult:
    number: int
    id: str
    status: str  # one of STATUSES
    reason: str = ""  # why a line was refused, the error it failed with, or a warning on an ok line
    outputs: list[str] = field(default_factory=list)  # file names in OUT_DIR
    seconds: float = 0.0
    fingerprint: str = ""
    character: str = ""
    resumed: bool = False  # finished by an earlier run with the same inputs, not redone
    attempts: int = 1  # more than 1: a worker died during the line and it was run again


def write_atomically(path: Path, text: str) -> None:
    """Readers see the old file or the whole new one, never a part (a killed worker leaves no stub).
    The partial file is made new in the folder (mkstemp: never an existing name, never through a link
    planted there), and the rename replaces a link at `path` instead of following it."""
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def open_no_follow(path: Path, flags: int):
    """A file descriptor for `path` that refuses to open it through a symbolic link."""
    return os.open(path, flags | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o644)


def spreadsheet_safe(cell) -> str:
    """A cell a spreadsheet shows as text: one starting = + - @, a tab or a carriage return is a formula
    to Excel and LibreOffice (OWASP's CSV injection advice: prefix a quote)."""
    text = str(cell)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(inputs: dict, audio: Path, settings: dict) -> str:
    """Changes when anything that shapes the line's files changes; the audio is hashed by content."""
    try:
        audio_digest = file_digest(audio)
    except OSError:
        audio_digest = "unreadable"  # the line will be refused when it runs; no resume for it
    blob = json.dumps({"line": inputs, "audio": audio_digest, "settings": settings}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def record_path(out_dir: Path, line_id: str) -> Path:
    return out_dir / RECORDS / f"{line_id}.json"


def note_attempt(out_dir: Path, line_id: str) -> int:
    """Log that a worker (this process) starts the line; returns how often one has started it."""
    descriptor = open_no_follow(_attempts_path(out_dir, line_id), os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    with os.fdopen(descriptor, "a", encoding="utf-8") as log:
        log.write(f"{os.getpid()}\n")
    return attempt_count(out_dir, line_id)


def attempt_count(out_dir: Path, line_id: str) -> int:
    try:
        return len(_attempts_path(out_dir, line_id).read_text(encoding="utf-8").split())
    except OSError:
        return 0


def clear_attempts(out_dir: Path, line_id: str) -> None:
    """A new batch run counts its own attempts."""
    _attempts_path(out_dir, line_id).unlink(missing_ok=True)


def _attempts_path(out_dir: Path, line_id: str) -> Path:
    return out_dir / RECORDS / f"{line_id}.attempts"


def save_record(out_dir: Path, result: LineResult) -> None:
    write_atomically(record_path(out_dir, result.id), json.dumps(asdict(result), indent=1))


def finished_before(out_dir: Path, line_id: str, fingerprint_now: str) -> LineResult | None:
    """The earlier ok result of this line if its inputs are unchanged and its files are all there."""
    try:
        result = LineResult(**json.loads(record_path(out_dir, line_id).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
    if result.status != "ok" or result.fingerprint != fingerprint_now:
        return None
    if not all((out_dir / name).is_file() for name in result.outputs):
        return None
    result.resumed = True
    return result


def write_summary(out_dir: Path, results: list[LineResult]) -> tuple[Path, Path]:
    """summary.json (every field) and summary.csv (one row per line) in manifest order."""
    ordered = sorted(results, key=lambda r: r.number)
    counts = {status: sum(r.status == status for r in ordered) for status in STATUSES}
    json_path, csv_path = out_dir / "summary.json", out_dir / "summary.csv"
    write_atomically(json_path, json.dumps({"counts": counts, "lines": [asdict(r) for r in ordered]}, indent=1))
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(["line", "id", "character", "status", "reason", "outputs", "seconds", "attempts", "resumed"])
    for r in ordered:  # the manifest's words come from writers and vendors: no cell runs as a formula
        writer.writerow([spreadsheet_safe(cell) for cell in (
            r.number, r.id, r.character, r.status, r.reason, " ".join(r.outputs), f"{r.seconds:.2f}", r.attempts,
            "yes" if r.resumed else "")])
    write_atomically(csv_path, table.getvalue())
    return json_path, csv_path
