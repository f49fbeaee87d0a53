"""Speed of every stage on a 60 s clip, printed as a table (no thresholds: this measures, tests assert).

    python bench/run_bench.py [--seconds 60] [--repeats 3]

Stages: server cold start, phone alignment, instruction (baseline and learned agent), synthesis (baseline and learned) + FLAME retarget,
curves → keyframes in Blender (53 FLAME curves; 52 ARKit curves), export (glTF, FBX).
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def timed(fn, repeats: int) -> tuple[float, object]:
    """Median wall time of `repeats` warm runs (after one untimed warm-up), and the last result."""
    result = fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def make_clip(seconds: float, folder: Path) -> tuple[Path, str]:
    demo = REPO / "assets" / "demo_speech.wav"
    text = (REPO / "assets" / "demo_speech.txt").read_text().strip()
    import soundfile

    repeats = max(1, round(seconds / soundfile.info(str(demo)).duration))
    clip = folder / f"speech_{seconds:g}s.wav"
    subprocess.run(["sox", *[str(demo)] * repeats, str(clip)], check=True)
    return clip, " ".join([text] * repeats)


def server_cold_start() -> float:
    from model_server.api.serve import READY_PREFIX

    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "model_server", "serve", "--port", "0", "--exit-on-stdin-eof"],
                            cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    while not proc.stdout.readline().startswith(READY_PREFIX):
        if proc.poll() is not None:
            raise RuntimeError("server failed to start")
    elapsed = time.perf_counter() - start
    proc.stdin.close()
    proc.wait(timeout=20)
    return elapsed


def model_stages(clip: Path, transcript: str, repeats: int) -> tuple[list[tuple[str, float]], dict]:
    from model_server.agent.registry import load_agent
    from model_server.audio.alignment import align_phones
    from model_server.audio.loading import load_audio
    from model_server.config import PipelineConfig
    from model_server.pipeline import TalkingFacePipeline

    pipeline = TalkingFacePipeline.from_config(PipelineConfig())
    audio = load_audio(clip)
    rows = [("load + resample audio", timed(lambda: load_audio(clip), repeats)[0])]
    rows.append(("phone alignment (forced, transcript given)", timed(lambda: align_phones(audio, transcript), repeats)[0]))
    rows.append(("recognition + alignment (no transcript: Whisper words, pocketsphinx phones)",
                 timed(lambda: align_phones(audio, None), 1)[0]))
    analysis = pipeline.front_end.analyze(audio, transcript, 25.0)
    baseline_agent = load_agent("baseline")
    rows.append(("instruction (baseline agent)", timed(lambda: baseline_agent.instruct(analysis), repeats)[0]))
    # The default agent (loaded first: it loads on its first instruction): every segment and the whole clip,
    # one reply each, drafted (grammar_decoding).
    learned_agent = pipeline.agent.loaded()
    rows.append(("instruction (learned agent: Q-Former + language model, one run)",
                 timed(lambda: learned_agent.instruct(analysis), 1)[0]))
    _, segments = baseline_agent.instruct(analysis)  # the same segment times; which agent wrote them does not matter below
    synth_time, articulation = timed(
        lambda: pipeline.synthesizer_named("baseline").synthesize(analysis, segments, seed=0, fps=25.0), repeats)
    rows.append(("synthesis (baseline articulation)", synth_time))
    learned = pipeline.synthesizer_named("learned")
    seeds = itertools.count()  # a new seed each run: the model keeps styles it sampled before
    rows.append(("synthesis (learned: prior sampling + decoder, 1 take)",
                 timed(lambda: learned.synthesize(analysis, segments, seed=next(seeds), fps=25.0), repeats)[0]))
    rows.append(("FLAME retarget (matrix product)", timed(lambda: pipeline.retarget.to_flame(articulation.arkit, articulation.jaw), repeats)[0]))
    curves = pipeline(audio, transcript=transcript, segments=segments, fps=25.0)
    return rows, curves


def blender_stages(curves: dict, folder: Path) -> list[tuple[str, float]]:
    """Runs in a child process: bpy may be imported once per process and owns global state."""
    curves_path = folder / "curves.json"
    curves_path.write_text(json.dumps(curves))
    done = subprocess.run([sys.executable, str(REPO / "bench" / "blender_stages.py"), str(curves_path)],
                          capture_output=True, text=True, check=True)
    return [tuple(row) for row in json.loads(done.stdout.strip().splitlines()[-1])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clip, transcript = make_clip(args.seconds, folder)
        rows = [("server cold start (process → ready)", server_cold_start())]
        stage_rows, curves = model_stages(clip, transcript, args.repeats)
        rows += stage_rows
        rows += blender_stages(curves, folder)
    print(f"clip: {curves['num_frames'] / 25:.1f} s of speech (demo sentence repeated), 25 fps "
          f"({curves['num_frames']} frames); "
          f"{platform.processor() or platform.machine()}, median of {args.repeats} warm runs\n")
    print("| stage | seconds |\n|---|---:|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.3f} |")


if __name__ == "__main__":
    main()
