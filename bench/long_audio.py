"""Learned synthesis on long audio: time, peak memory and seams, per clip length (prints a table).

    python bench/long_audio.py [--minutes 1 10] [--synthesis learned]

The speech is the demo sentence repeated with sox; phones come from forced alignment. Memory is
the process's peak resident size during synthesis alone (Linux: the peak is reset just before).
Seams: the largest frame-to-frame change of any curve but the blinks at window hand-overs, next to
the largest anywhere (equal or smaller means the hand-over is invisible), and the largest difference
between windowed decoding and decoding the whole clip in one pass.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from clips import repeated_clip  # noqa: E402


def reset_peak_rss() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--synthesis", default="learned")
    args = parser.parse_args()

    from model_server.audio.front_end import SpeechFrontEnd
    from model_server.arkit import ARKIT_NAMES
    from model_server.audio.loading import load_audio
    from model_server.synthesis import learned
    from model_server.synthesis.registry import load_synthesizer

    synthesizer = load_synthesizer(args.synthesis)
    instruction = "A fairly happy person speaks with cheeks mildly raised and lip corners fairly pulled up."
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in args.minutes:
            clip, transcript = repeated_clip(minutes * 60, Path(tmp))
            audio = load_audio(clip)
            analysis = SpeechFrontEnd().analyze(audio, transcript, 25.0)
            segments = [{"start": 0.0, "end": audio.duration, "instruction": instruction}]
            synthesizer.synthesize(analysis, segments, seed=0, fps=25.0)  # warm
            reset_peak_rss()
            before = peak_rss_mb()
            start = time.perf_counter()
            out = synthesizer.synthesize(analysis, segments, seed=0, fps=25.0).arkit
            seconds = time.perf_counter() - start
            peak = peak_rss_mb() - before
            moving = [i for i, name in enumerate(ARKIT_NAMES) if not name.startswith("eyeBlink")]  # blinks jump by design
            steps = np.abs(np.diff(out[:, moving], axis=0)).max(axis=1)  # (T - 1,)
            handovers, one_pass_gap = [], float("nan")
            if isinstance(synthesizer, learned.LearnedSynthesizer):
                reach = synthesizer.model.cfg.receptive_field()
                handovers = [start + reach + learned.RAMP_FRAMES // 2
                             for start, _, _ in list(learned._windows(len(out), reach))[1:]]
                one_pass_gap = windowed_vs_one_pass(synthesizer, analysis)
            seam = max((steps[h - 15:h + 15].max() for h in handovers), default=float("nan"))
            rows.append((f"{audio.duration / 60:.1f} min", seconds, peak, len(handovers), seam, steps.max(), one_pass_gap))
    print(f"synthesis: {args.synthesis}, 25 fps, warm\n")
    print("| clip | synthesis s | peak extra memory MB | window hand-overs | max step at hand-overs | max step anywhere"
          " | max abs(windowed − one pass) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, seconds, peak, count, seam, anywhere, gap in rows:
        print(f"| {name} | {seconds:.2f} | {peak:.0f} | {count} | {seam:.3f} | {anywhere:.3f} | {gap:.1e} |")


def windowed_vs_one_pass(synthesizer, analysis) -> float:
    """Largest difference between window-by-window decoding and decoding the whole clip at once."""
    import torch

    from model_server.synthesis.content_features import content_features

    content = content_features(analysis.alignment.phones, analysis.prosody)
    style = synthesizer.sample_style_codes("A neutral person speaks with relaxed face.", 1, seed=0)[0]
    windowed = synthesizer.decode(content, style)
    with torch.inference_mode():
        whole = synthesizer.model(torch.from_numpy(content)[None], torch.from_numpy(style)[None])[0].clamp(0, 1).numpy()
    return float(np.abs(windowed - whole).max())


if __name__ == "__main__":
    main()
