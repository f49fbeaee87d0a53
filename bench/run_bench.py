"""Speed of the whole pipeline and of every stage on two clips, printed as one table (no thresholds:
this measures, tests assert).

    python bench/run_bench.py [--seconds 60] [--repeats 3] [--clips repeated sentences] [--rhubarb PATH]

Clips (bench/clips.py): the demo sentence repeated, and real sentences with pauses (many segments).
Rows: model process cold start; the whole pipeline with the dialogue text and the agent writing the
instruction, without the text (recognition), and with text and instruction given, each for a clip new to
the process; the same clip again with an edited instruction (its alignment kept); the learned agent,
alignment, recognition and synthesis alone; curves → keyframes and key poses in Blender; export (glTF,
FBX); the peak memory of the model process (default models: the demo line with and without its text)
and of this process, which runs every model above, the learned synthesis included. --rhubarb
PATH also times a local Rhubarb Lip Sync binary on the same clips, with and without the dialog file
and with its phonetic recognizer (for comparison on your machine; nothing of it ships). Times are medians of warm runs.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from clips import CLIPS, make_clip  # noqa: E402
from server_memory import resident_mb, run_job  # noqa: E402

FPS = 25.0
GIVEN_INSTRUCTION = "A slightly happy person speaks with brow slightly raised."


def timed(fn, repeats: int, warm: bool = True) -> tuple[float, object]:
    """Median wall time of `repeats` runs (after one untimed warm-up run unless warm=False), and the last result."""
    result = fn() if warm else None
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def server_cold_start() -> tuple[float, float, float]:
    """Seconds from starting the model process until it says it is ready, and until the first request's
    curves are back (the demo line with its text, the agent writing the instruction: what Generate asks
    first; the models load after the process says it is ready); then the process's peak resident
    memory (MiB) once the same line has also been animated without its text (recognition)."""
    from model_server.api.serve import READY_PREFIX

    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "model_server", "serve", "--port", "0", "--exit-on-stdin-eof"],
                            cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    while not (line := proc.stdout.readline()).startswith(READY_PREFIX):
        if proc.poll() is not None:
            raise RuntimeError("server failed to start")
    ready = time.perf_counter() - start
    info = json.loads(line[len(READY_PREFIX):])
    url, token = f"http://127.0.0.1:{info['port']}", info["token"]
    body = {"audio_path": str(REPO / "assets" / "demo_speech.wav"),
            "transcript": (REPO / "assets" / "demo_speech.txt").read_text().strip(), "fps": FPS}
    run_job(url, token, "/v1/animate", body)
    first = time.perf_counter() - start
    run_job(url, token, "/v1/animate", {**body, "transcript": None})
    _, peak = resident_mb(proc.pid)
    proc.stdin.close()
    proc.wait(timeout=60)
    return ready, first, peak


def model_stages(pipeline, clip: Path, transcript: str, repeats: int) -> tuple[dict, dict]:
    """{stage: seconds or text} and the curves of the default whole pipeline with the text."""
    from model_server.audio.alignment import align_phones
    from model_server.audio.loading import load_audio

    audio = load_audio(clip)
    agent = pipeline.agent.loaded()

    def first_time(**options):  # the clip new to the model process: its alignment is not kept from before
        pipeline.front_end.alignments.clear()
        return pipeline(audio, fps=FPS, **options)

    rows = {}
    rows["whole pipeline: dialogue text given, the agent writes the instruction"], curves = timed(
        lambda: first_time(transcript=transcript), repeats)
    rows["whole pipeline: no text (recognised), the agent writes the instruction"] = timed(
        lambda: first_time(), repeats)[0]
    rows["whole pipeline: text and instruction given (no agent)"] = timed(
        lambda: first_time(transcript=transcript, instruction=GIVEN_INSTRUCTION), repeats)[0]
    edits = itertools.cycle(["A slightly happy person speaks with brow slightly raised.",
                             "A fairly sad person speaks with inner brow quite raised."])
    rows["the same clip again, instruction edited (text given; its alignment kept)"] = timed(
        lambda: pipeline(audio, transcript=transcript, instruction=next(edits), fps=FPS), repeats)[0]
    analysis = pipeline.front_end.analyze(audio, transcript, FPS)
    rows["learned agent alone (each segment and the whole clip)"], (_, segments) = timed(
        lambda: agent.instruct(analysis), repeats)
    rows["segments the agent writes an instruction for"] = f"{len(segments)} (+ the whole clip)"
    rows["phone alignment alone (text given)"] = timed(lambda: align_phones(audio, transcript), repeats)[0]
    rows["recognition + alignment alone (no text)"] = timed(lambda: align_phones(audio, None), repeats)[0]
    learned = pipeline.synthesizer_named("learned")
    seeds = itertools.count()  # a new seed each run: the model keeps the styles it sampled before
    rows["learned synthesis alone (prior + decoder, 1 take)"] = timed(
        lambda: learned.synthesize(analysis, segments, seed=next(seeds), fps=FPS), repeats)[0]
    return rows, curves


def blender_stages(curves: dict, folder: Path) -> dict:
    """Runs in a child process: bpy may be imported once per process and owns global state."""
    curves_path = folder / "curves.json"
    curves_path.write_text(json.dumps(curves))
    done = subprocess.run([sys.executable, str(REPO / "bench" / "blender_stages.py"), str(curves_path)],
                          capture_output=True, text=True, check=True)
    return dict(tuple(row) for row in json.loads(done.stdout.strip().splitlines()[-1]))


def rhubarb_stages(rhubarb: Path, clip: Path, transcript: str, folder: Path, repeats: int) -> dict:
    """Rhubarb Lip Sync on the same clip: with the dialog file, without (its own recognition), and its
    phonetic recognizer (phones without words: faster, for non-English dialogue)."""
    dialog = folder / "dialog.txt"
    dialog.write_text(transcript)

    def run(*options: str):
        subprocess.run([str(rhubarb), "-q", "-f", "json", *options, str(clip)], check=True, capture_output=True)

    return {"Rhubarb Lip Sync: dialog file given": timed(lambda: run("--dialogFile", str(dialog)), repeats, False)[0],
            "Rhubarb Lip Sync: no dialog (its recognition)": timed(lambda: run(), repeats, False)[0],
            "Rhubarb Lip Sync: phonetic recognizer": timed(lambda: run("--recognizer", "phonetic"), repeats, False)[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each clip (default 60)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per stage; the median is printed")
    parser.add_argument("--clips", nargs="+", choices=CLIPS, default=list(CLIPS))
    parser.add_argument("--rhubarb", type=Path, help="a Rhubarb Lip Sync binary to time on the same clips")
    args = parser.parse_args()
    from model_server.config import PipelineConfig
    from model_server.pipeline import TalkingFacePipeline

    columns, described = {}, []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        starts = [server_cold_start() for _ in range(args.repeats)]
        cold = {"model process cold start (process → ready)": statistics.median(r for r, _, _ in starts),
                "model process cold start → first request's curves (demo line, agent writing)":
                    statistics.median(f for _, f, _ in starts)}
        process_peak = max(p for _, _, p in starts)
        pipeline = TalkingFacePipeline.from_config(PipelineConfig())
        for name in args.clips:
            try:
                clip, transcript = make_clip(name, args.seconds, folder)
            except FileNotFoundError as missing:
                print(f"{name} clip left out: {missing}", file=sys.stderr)
                continue
            rows = dict(cold)
            stage_rows, curves = model_stages(pipeline, clip, transcript, args.repeats)
            rows.update(stage_rows)
            rows.update(blender_stages(curves, folder))
            if args.rhubarb:
                rows.update(rhubarb_stages(args.rhubarb, clip, transcript, folder, args.repeats))
            columns[name] = rows
            described.append(f"{name}: {curves['num_frames'] / FPS:.1f} s, {len(transcript.split())} words")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"clips: {'; '.join(described)}; {FPS:g} fps. {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, median of {args.repeats} warm runs (seconds unless named)\n")
    print("| stage | " + " | ".join(columns) + " |\n|---|" + "---:|" * len(columns))
    for stage in next(iter(columns.values())):
        cells = [columns[name].get(stage, "") for name in columns]
        print(f"| {stage} | " + " | ".join(f"{c:.3f}" if isinstance(c, float) else str(c) for c in cells) + " |")
    print(f"| model process, peak memory (MiB): default models, the demo line with and without its text | "
          f"{process_peak:.0f} |" + " |" * (len(columns) - 1))
    print(f"| this benchmark's process, peak memory (MiB): every model above, both synthesis models included | "
          f"{peak:.0f} |" + " |" * (len(columns) - 1))


if __name__ == "__main__":
    main()
