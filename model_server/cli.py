"""Command line: the same pipeline as the server, without Blender.

    python -m model_server instruct AUDIO [--transcript TEXT]
    python -m model_server animate AUDIO [--transcript TEXT] [--instruction TEXT] [--seed N] [--fps F]
                                   [--samples N] [--guidance G] [--synthesis NAME] -o OUT.json
    python -m model_server batch MANIFEST -o OUT_DIR [--workers N] [--live-link] [--glb demo|RIG.blend]
                                 [--ray auto|local|HOST:PORT]
    python -m model_server serve [--port 0] [--exit-on-stdin-eof]

With --samples N > 1, OUT.json holds take 1 (the given seed) and OUT.take2.json … OUT.takeN.json the
others (the next seeds); the files written are printed on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .api.limits import ServerLimits
from .config import DEFAULT_FPS, DEFAULT_MAX_AUDIO_SECONDS, MAX_TAKES, PipelineConfig
from .agent.registry import AGENTS, API_KEY_ENV, DEFAULT_AGENT
from .api.schemas import MAX_TEXT_CHARS
from .errors import InputError
from .synthesis.registry import DEFAULT_SYNTHESIS, SYNTHESIZERS


def _progress_to_stderr(fraction: float, stage: str) -> None:
    print(f"[{fraction * 100:5.1f}%] {stage}", file=sys.stderr, flush=True)


def _add_pipeline_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--flame-model", type=Path, help="your FLAME model (.pkl/.npz) for the FLAME retarget")
    parser.add_argument("--max-audio-minutes", type=float, default=DEFAULT_MAX_AUDIO_SECONDS / 60)
    parser.add_argument("--agent", default=DEFAULT_AGENT,
                        help=f"instruction agent: {' or '.join(AGENTS)} (default: {DEFAULT_AGENT})")
    parser.add_argument("--agent-url", help="endpoint agent: root of a local OpenAI-compatible API, e.g. "
                                            f"http://127.0.0.1:8080/v1 (API key, if any, from ${API_KEY_ENV})")
    parser.add_argument("--agent-model", help="endpoint agent: the model name the server expects")
    parser.add_argument("--agent-weights", type=Path, help="learned agent: its adapter folder (default: assets/models/agent)")
    parser.add_argument("--lm", type=Path, dest="agent_lm",
                        help="learned agent: a transformers causal-LM directory its adapter was trained for "
                             "(default: the packaged SmolLM2-135M-Instruct)")
    parser.add_argument("--synthesis", default=DEFAULT_SYNTHESIS,
                        help=f"synthesis model: {' or '.join(SYNTHESIZERS)} (default: {DEFAULT_SYNTHESIS})")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")


def _add_audio_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("audio", type=Path, help="speech file (WAV, FLAC, OGG, MP3)")
    text = parser.add_mutually_exclusive_group()
    text.add_argument("--transcript", help="the dialogue text (forced alignment instead of recognition)")
    text.add_argument("--transcript-file", type=Path, help="a UTF-8 text file holding the dialogue text")
    parser.add_argument("--start", type=float, help="seconds into the file where the part to animate begins "
                                                    "(curves frame 0 is this time; default 0)")
    parser.add_argument("--end", type=float, help="seconds into the file where the part to animate ends (default: its end)")
    parser.add_argument("--language", default="en",
                        help="en (default), auto (told from the speech) or a language code eSpeak NG speaks: fr, es, ru …")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m model_server", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    instruct = commands.add_parser("instruct", help="speech → visual instruction (JSON on stdout)")
    _add_audio_options(instruct)
    _add_pipeline_options(instruct)

    animate = commands.add_parser("animate", help="speech (+ instruction) → curves file")
    _add_audio_options(animate)
    animate.add_argument("--instruction", help="visual instruction; omitted: the agent writes one")
    animate.add_argument("--seed", type=int, default=0)
    animate.add_argument("--fps", type=float, default=DEFAULT_FPS)
    animate.add_argument("--samples", type=int, default=1,
                         help=f"takes to make, 1-{MAX_TAKES}, seeds SEED, SEED+1, … (default: 1)")
    animate.add_argument("--guidance", type=float,
                         help="guidance scale of the learned model's style sampling, ≥ 0 (default: the model's own)")
    animate.add_argument("--layers", action="store_true",
                         help="also write each take as lips, expression, eyes and blinks layers that add up to it")
    animate.add_argument("--head-motion", type=float, default=1.0, metavar="AMOUNT",
                         help="how much the head moves with the voice: 0 (exactly still) to 2, default 1; blinks "
                              "and gaze are independent of it")
    animate.add_argument("--gaze", metavar="TARGET", default="camera",
                         help="where eye contact is: camera or forward (straight ahead, the default), YAW,PITCH "
                              "(degrees, + to the speaker's left and down; --gaze=-10,0 when the first is negative) "
                              "or X,Y,Z (a point in metres in the head's frame: x to the speaker's left, y up, "
                              "z forward)")
    animate.add_argument("--live-link", type=Path, metavar="OUT.csv",
                         help="also write each take as a Live Link Face CSV (Unreal/MetaHuman, Maya, Houdini); "
                              "take k ≥ 2 to OUT.take<k>.csv")
    animate.add_argument("-o", "--output", type=Path, required=True,
                         help="curves file to write (.json); with --samples N, take k ≥ 2 goes to OUT.take<k>.json")
    _add_pipeline_options(animate)

    batch = commands.add_parser("batch", help="a manifest of dialogue lines → a curves file per line, and a summary",
                                description=_manifest_help(), formatter_class=argparse.RawDescriptionHelpFormatter)
    batch.add_argument("manifest", type=Path, help="CSV (with a header) or JSON lines, one dialogue line each")
    batch.add_argument("-o", "--output", type=Path, required=True,
                       help="folder for every line's files, the records a rerun resumes from and summary.csv/json")
    batch.add_argument("--workers", type=int, help="worker processes (default: one per core while memory allows)")
    batch.add_argument("--live-link", action="store_true", help="also write each line as a Live Link Face CSV")
    batch.add_argument("--glb", metavar="RIG", help="also bake each line onto a face and export a .glb: demo (the "
                                                    "demo head) or a .blend with the face")
    batch.add_argument("--face", help="with --glb RIG.blend: the face object's name (default: the one it finds)")
    batch.add_argument("--blender-python", default=sys.executable,
                       help="a Python with bpy for --glb (default: this one)")
    batch.add_argument("--ray", metavar="ADDRESS", help="run the lines as tasks on a Ray cluster: auto (the one "
                                                        "this machine is part of), local (start one here) or HOST:PORT")
    _add_pipeline_options(batch)

    serve = commands.add_parser("serve", help="run the HTTP API for the Blender extension")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0 picks a free port")
    serve.add_argument("--token-file", type=Path, help="read the token from this file (readable by you alone); "
                                                       "or set $AVI_TALKING_TOKEN; default: a random one, printed "
                                                       "on start")
    serve.add_argument("--token", help=argparse.SUPPRESS)  # visible to every local user in `ps`: see --token-file
    serve.add_argument("--exit-on-stdin-eof", action="store_true", help="exit when the parent closes stdin")
    serve.add_argument("--file-root", type=Path, action="append", default=[], metavar="FOLDER",
                       help="a folder whose files requests may name (audio_path, flame_model_path); repeatable. "
                            "On loopback without it, any file this user can read; on another host without it, none")
    serve.add_argument("--max-body-mb", type=float, default=ServerLimits.max_body_bytes / 2**20,
                       help="largest request body, MiB (default: %(default)g)")
    serve.add_argument("--max-queued-jobs", type=int, default=ServerLimits.max_queued_jobs,
                       help="jobs queued or running at once; more get 429 (default: %(default)d)")
    serve.add_argument("--request-timeout", type=float, default=ServerLimits.request_read_seconds,
                       help="seconds a client has to send a whole request, headers and body (default: %(default)g)")
    serve.add_argument("--job-retention", type=float, default=ServerLimits.job_keep_seconds,
                       help="seconds a finished job's status is kept; 60 s (at most) once a client read it "
                            "(default: %(default)g)")
    _add_pipeline_options(serve)
    return parser


def _token(args) -> str | None:
    """The token from --token-file, else (with a warning) --token; None: $AVI_TALKING_TOKEN or a random one."""
    if args.token_file is not None:
        try:
            token = args.token_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read the token file {args.token_file}: {getattr(exc, 'strerror', None) or exc}")
        if len(token) < 16:
            raise InputError(f"the token in {args.token_file} is {len(token)} characters; use at least 16")
        if args.token_file.stat().st_mode & 0o077:
            print(f"warning: {args.token_file} can be read by other users: chmod 600 it", file=sys.stderr)
        return token
    if args.token:
        print("warning: --token is visible to every local user in the process list; use --token-file or "
              "$AVI_TALKING_TOKEN", file=sys.stderr)
    return args.token


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = PipelineConfig(max_audio_seconds=args.max_audio_minutes * 60, flame_model=args.flame_model,
                            agent=args.agent, agent_url=args.agent_url, agent_model=args.agent_model,
                            agent_weights=args.agent_weights, agent_lm=args.agent_lm,
                            synthesis=args.synthesis)
    try:
        if args.command == "serve":
            from .api.serve import serve

            serve(config, host=args.host, port=args.port, token=_token(args),
                  exit_on_stdin_eof=args.exit_on_stdin_eof, limits=_server_limits(args),
                  file_roots=tuple(args.file_root))
            return 0
        if args.command == "batch":
            return _run_batch_command(args, config)
        return _run_pipeline_command(args, config)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cancelled", file=sys.stderr)
        return 130


def _manifest_help() -> str:
    from .batch import manifest

    return manifest.__doc__


def _run_batch_command(args: argparse.Namespace, config: PipelineConfig) -> int:
    """Exit 0 when every line is ok, 1 when some were refused or failed (the summary says which)."""
    from .batch.line_work import BatchOutputs
    from .batch.runner import run_batch

    if args.workers is not None and args.workers < 1:
        raise InputError("--workers must be at least 1")
    progress = (lambda text: None) if args.quiet else (lambda text: print(text, file=sys.stderr, flush=True))
    outputs = BatchOutputs(live_link=args.live_link, glb_rig=args.glb, glb_face=args.face)
    results = run_batch(args.manifest, args.output, config, outputs, workers=args.workers, ray_address=args.ray,
                        blender_python=args.blender_python, progress=progress)
    counts = {status: sum(r.status == status for r in results) for status in ("ok", "refused", "failed")}
    print(f"{counts['ok']} ok, {counts['refused']} refused, {counts['failed']} failed; "
          f"summary in {args.output / 'summary.csv'}")
    return 0 if counts["ok"] == len(results) else 1


def _server_limits(args: argparse.Namespace) -> ServerLimits:
    if min(args.max_body_mb, args.request_timeout, args.job_retention) <= 0 or args.max_queued_jobs < 1:
        raise InputError("--max-body-mb, --request-timeout and --job-retention must be above 0, "
                         "--max-queued-jobs at least 1")
    return ServerLimits(max_body_bytes=int(args.max_body_mb * 2**20), max_queued_jobs=args.max_queued_jobs,
                        request_read_seconds=args.request_timeout, job_keep_seconds=args.job_retention)


def _run_pipeline_command(args: argparse.Namespace, config: PipelineConfig) -> int:
    from .audio.loading import load_audio, trimmed
    from .curves import reading_sentence, save_curves
    from .live_link import curves_to_live_link_csv
    from .pipeline import TalkingFacePipeline

    progress = (lambda fraction, stage: None) if args.quiet else _progress_to_stderr
    from .audio.languages import checked_language
    from .nonverbal.options import gaze_target, nonverbal_options

    language = checked_language(args.language)
    nonverbal = nonverbal_options(args.head_motion, gaze_target(args.gaze)) if args.command == "animate" else None
    if args.command == "instruct" or not getattr(args, "instruction", None):  # the agent will write: refuse a bad setting before any work
        from .agent.registry import check_agent_setting

        check_agent_setting(config.agent, url=config.agent_url, lm=config.agent_lm, weights=config.agent_weights)
    transcript = dialogue_text(args)
    audio = trimmed(load_audio(args.audio, max_seconds=config.max_audio_seconds), args.start, args.end)
    pipeline = TalkingFacePipeline.from_config(config)
    if args.command == "instruct":
        result = pipeline.instruct(audio, transcript, language=language, progress=progress)
        warn_if_text_unused(transcript, result)
        print(json.dumps(result, indent=2))
        return 0
    takes = pipeline.takes(audio, transcript=transcript, instruction=args.instruction, seed=args.seed,
                           samples=args.samples, guidance=args.guidance, fps=args.fps, layers=args.layers,
                           language=language, nonverbal=nonverbal, progress=progress)
    warn_if_text_unused(transcript, takes[0])
    for number, segment in enumerate(takes[0]["segments"], start=1):  # how each instruction was read
        if segment.get("reading"):
            print(f"segment {number} ({segment['start']:.2f}-{segment['end']:.2f} s): "
                  f"{reading_sentence(segment['reading'])}", file=sys.stderr)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    for index, curves in enumerate(takes, start=1):
        path = take_path(args.output, index)
        save_curves(curves, path)
        print(f"wrote {path}: take {index}, seed {curves['model']['take']['seed']}, "
              f"{curves['num_frames']} frames at {curves['fps']:g} fps")
        if args.live_link:
            csv_path = take_path(args.live_link, index)
            csv_path.parent.mkdir(parents=True, exist_ok=True)
            csv_path.write_text(curves_to_live_link_csv(curves), encoding="utf-8")
            print(f"wrote {csv_path}: take {index} as a Live Link Face CSV")
    return 0


def dialogue_text(args: argparse.Namespace) -> str | None:
    """--transcript, or the text of --transcript-file. A --transcript that names a file is refused:
    aligned as words, a file name would move the lips to words nobody says."""
    if args.transcript_file is not None:
        too_long = InputError(f"{args.transcript_file} holds more than {MAX_TEXT_CHARS} characters: not one line's dialogue")
        try:
            with args.transcript_file.open("rb") as file:
                data = file.read(MAX_TEXT_CHARS * 4 + 1)  # at most 4 bytes a character in UTF-8
            if len(data) > MAX_TEXT_CHARS * 4:  # before decoding: the cut may fall inside a character
                raise too_long
            text = data.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read the dialogue text in {args.transcript_file}: "
                             f"{getattr(exc, 'strerror', None) or exc}") from exc
        if len(text) > MAX_TEXT_CHARS:
            raise too_long
        return text
    text = args.transcript
    if text and ("/" in text or "\\" in text or text.endswith(".txt")) and Path(text).is_file():
        raise InputError(f"--transcript takes the words themselves, and {text} is a file: "
                         f"pass it as --transcript-file {text}")
    return text


def warn_if_text_unused(transcript: str | None, result: dict) -> None:
    from .audio.transcript_fit import unused_text_note

    note = unused_text_note(transcript, result)
    if note:
        print(f"warning: {note}", file=sys.stderr)


def take_path(output: Path, index: int) -> Path:
    """Take 1 is written to OUT.json itself, take k ≥ 2 beside it as OUT.take<k>.json."""
    return output if index == 1 else output.with_name(f"{output.stem}.take{index}{output.suffix}")
