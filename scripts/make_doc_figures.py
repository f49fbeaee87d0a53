"""The pictures of docs/: the demo line's curves, its layers and its head and eyes as SVG plots, and the demo
preview render.

    .venv/bin/python scripts/make_doc_figures.py [--preview out/demo_preview.png]

The line is animated by the model process's command line (the dialogue text given, an angry instruction,
the layers asked for), so the plots show what the add-on keys. The preview is `make demo`'s render of the
same line under two instructions; it is copied when it exists.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

REPO = Path(__file__).resolve().parent.parent
IMAGES = REPO / "docs" / "images"
DEMO_AUDIO, DEMO_TEXT = REPO / "assets" / "demo_speech.wav", REPO / "assets" / "demo_speech.txt"
INSTRUCTION = "A very angry person speaks with brow greatly lowered, lips pressed, nose wrinkled."
FPS, SEED = 25, 0

# (channel, colour): the mouth, the brow the instruction lowers, and a blink.
CURVE_CHANNELS = [("jawOpen", "#1f77b4"), ("mouthClose", "#2ca02c"), ("mouthFunnel", "#9467bd"),
                  ("browDownLeft", "#d62728"), ("eyeBlinkLeft", "#7f7f7f")]
LAYER_CHANNELS = ["jawOpen", "mouthPressLeft", "browDownLeft", "eyeLookOutLeft", "eyeBlinkLeft"]
LAYERS = ("lips", "expression", "eyes", "blinks")
LAYER_COLOURS = {"lips": "#1f77b4", "expression": "#d62728", "eyes": "#2ca02c", "blinks": "#7f7f7f", "sum": "#000000"}
HEAD_AXES = [("head pitch (+ nods down)", "#1f77b4"), ("head yaw (+ to the speaker's left)", "#d62728"),
             ("head roll", "#9467bd")]
EYE_AXES = [("eye yaw", "#d62728"), ("eye pitch (+ down)", "#1f77b4")]
BILABIALS = {"P", "B", "M"}


def animate_line(out: Path) -> dict:
    subprocess.run([sys.executable, "-m", "model_server", "animate", str(DEMO_AUDIO), "--transcript",
                    DEMO_TEXT.read_text().strip(), "--instruction", INSTRUCTION, "--seed", str(SEED), "--fps",
                    str(FPS), "--layers", "--quiet", "-o", str(out)], cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text())


class Plot:
    """One panel of a time plot: x in seconds, y in weight 0…1, drawn into an SVG group."""

    def __init__(self, top: float, height: float, seconds: float, title: str, width: float = 900, left: float = 60,
                 low: float = 0.0, high: float = 1.0, unit: str = ""):
        self.top, self.height, self.seconds, self.width, self.left = top, height, seconds, width, left
        self.low, self.high = low, high
        self.parts = [f'<text x="{left}" y="{top - 6}" font-size="13">{escape(title)}</text>',
                      f'<rect x="{left}" y="{top}" width="{width}" height="{height}" fill="none" stroke="#999"/>']
        for value in (low, (low + high) / 2, high):
            y = self.y(value)
            self.parts.append(f'<text x="{left - 8}" y="{y + 4}" font-size="10" text-anchor="end">{value:g}{unit}</text>')

    def x(self, seconds: float) -> float:
        return self.left + self.width * seconds / self.seconds

    def y(self, value: float) -> float:
        share = (value - self.low) / (self.high - self.low)
        return self.top + self.height * (1 - max(0.0, min(1.0, share)))

    def line(self, values: list[float], fps: float, colour: str, width: float = 1.5, dashed: bool = False) -> None:
        points = " ".join(f"{self.x(i / fps):.1f},{self.y(v):.1f}" for i, v in enumerate(values))
        dash = ' stroke-dasharray="4,3"' if dashed else ""
        self.parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="{width}"{dash}/>')

    def shade(self, start: float, end: float, colour: str = "#2ca02c") -> None:
        self.parts.append(f'<rect x="{self.x(start):.1f}" y="{self.top}" width="{self.x(end) - self.x(start):.1f}" '
                          f'height="{self.height}" fill="{colour}" fill-opacity="0.15" stroke="none"/>')

    def legend(self, items: list[tuple[str, str]]) -> None:
        x = self.left + self.width + 12
        for i, (label, colour) in enumerate(items):
            y = self.top + 14 + 16 * i
            self.parts.append(f'<line x1="{x}" y1="{y - 4}" x2="{x + 18}" y2="{y - 4}" stroke="{colour}" stroke-width="2"/>'
                              f'<text x="{x + 24}" y="{y}" font-size="11">{escape(label)}</text>')

    def time_axis(self) -> None:
        bottom = self.top + self.height
        for second in range(int(self.seconds) + 1):
            self.parts.append(f'<text x="{self.x(second):.1f}" y="{bottom + 14}" font-size="10" '
                              f'text-anchor="middle">{second} s</text>')


def svg(parts: list[str], width: float, height: float) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif">'
            f'<rect width="100%" height="100%" fill="white"/>' + "".join(parts) + "</svg>\n")


def channel(weights: list[list[float]], names: list[str], name: str) -> list[float]:
    index = names.index(name)
    return [frame[index] for frame in weights]


def curves_figure(curves: dict) -> str:
    names, weights, fps = curves["arkit"]["names"], curves["arkit"]["weights"], curves["fps"]
    seconds = curves["num_frames"] / fps
    plot = Plot(30, 220, seconds, f'The demo line under "{INSTRUCTION[:40]}…" (shaded: /p b m/)')
    for phone in curves["phones"]:
        if phone["phone"] in BILABIALS:
            plot.shade(phone["start"], phone["end"])
    for name, colour in CURVE_CHANNELS:
        plot.line(channel(weights, names, name), fps, colour)
    plot.legend(CURVE_CHANNELS)
    plot.time_axis()
    return svg(plot.parts, 1180, 280)


def layers_figure(curves: dict) -> str:
    names, fps, layers = curves["arkit"]["names"], curves["fps"], curves["arkit"]["layers"]
    seconds = curves["num_frames"] / fps
    parts = []
    for row, name in enumerate(LAYER_CHANNELS):
        plot = Plot(30 + 170 * row, 120, seconds, f"{name}: the layers (NLA tracks) and what they add up to")
        for layer in LAYERS:
            plot.line(channel(layers[layer], names, name), fps, LAYER_COLOURS[layer], width=3)
        plot.line(channel(curves["arkit"]["weights"], names, name), fps, LAYER_COLOURS["sum"], width=1, dashed=True)
        plot.legend([(f"AVI {layer}", LAYER_COLOURS[layer]) for layer in LAYERS]
                    + [("played (sum)", LAYER_COLOURS["sum"])])
        plot.time_axis()
        parts += plot.parts
    return svg(parts, 1180, 30 + 170 * len(LAYER_CHANNELS))


def head_eyes_figure(curves: dict) -> str:
    """The head's rotation and the left eye's angles over the line, in degrees."""
    fps, seconds = curves["fps"], curves["num_frames"] / curves["fps"]
    head = [[math.degrees(v) for v in row] for row in curves["head"]["rotation"]]
    eye = [[math.degrees(v) for v in row] for row in curves["eyes"]["left"]]
    head_plot = Plot(30, 160, seconds, "The head: nods on accents, a new turn and tilt each phrase, still in pauses",
                     low=-6, high=6, unit="°")
    for axis, (label, colour) in enumerate(HEAD_AXES):
        head_plot.line([row[axis] for row in head], fps, colour)
    head_plot.legend(HEAD_AXES)
    head_plot.time_axis()
    eye_plot = Plot(250, 160, seconds, "The eyes: eye contact around 0°, look-aways as saccades", low=-15, high=15, unit="°")
    for axis, (label, colour) in enumerate(EYE_AXES):
        eye_plot.line([row[axis] for row in eye], fps, colour)
    eye_plot.legend(EYE_AXES)
    eye_plot.time_axis()
    return svg(head_plot.parts + eye_plot.parts, 1180, 440)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preview", type=Path, default=REPO / "out" / "demo_preview.png",
                        help="make demo's preview render, copied to docs/images/ when it exists (and its dialogue "
                             "contact sheet, demo_dialogue.png beside it)")
    args = parser.parse_args(argv)
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        curves = animate_line(Path(tmp) / "line.json")
    (IMAGES / "line_curves.svg").write_text(curves_figure(curves))
    (IMAGES / "line_layers.svg").write_text(layers_figure(curves))
    (IMAGES / "line_head_eyes.svg").write_text(head_eyes_figure(curves))
    written = ["line_curves.svg", "line_layers.svg", "line_head_eyes.svg"]
    for render in (args.preview, args.preview.with_name("demo_dialogue.png")):
        if render.is_file():
            shutil.copyfile(render, IMAGES / render.name)
            written.append(render.name)
    print("wrote " + ", ".join(f"docs/images/{name}" for name in written))


if __name__ == "__main__":
    main()
