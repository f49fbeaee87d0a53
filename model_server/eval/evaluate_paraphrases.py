"""Free text understood: held-out paraphrases (eval/paraphrases.py) animated on real lines, the emotion read
back from the motion, per synthesizer, with the grammar alone and with the reading by meaning.

    python -m model_server.eval.evaluate_paraphrases [--lines 2] [--cache data/real_speech] [--json PATH]

Each synthesizer gets an emotion classifier of its own (eval/emotion_classifier.py: per-channel mean and
standard deviation of the motion), fitted on its takes of the grammar's canonical instructions ("A very
angry person speaks.", every emotion at fairly and very, seeds 0 and 1) on the same Asterisk lines. Then
each paraphrase is animated on each line, and the classifier names the emotion the face shows. Printed:
how many of the paraphrases' takes show the emotion the paraphrase asked for, overall and per emotion, and
how many paraphrases the reading understood (by the grammar or by meaning) rather than reporting them.
Then the diversity of takes (diversity()): how far sampled takes of one instruction differ, against how
far two instructions differ, for the face and for the head.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from ..agent.grammar import EMOTION_ADJECTIVES, EMOTIONS, INTENSITY_ADVERBS
from ..agent.reading import read_instruction
from ..audio.loading import load_audio
from ..config import PipelineConfig
from ..pipeline import TalkingFacePipeline
from .emotion_classifier import EmotionClassifier
from .paraphrases import PARAPHRASES
from .real_recordings import asterisk_recordings

LINE_KEYS = ("agent-pass", "conf-getpin", "vm-goodbye", "vm-options")  # real lines, none tuned on here
SYNTHESES = ("baseline", "learned")


def canonical(emotion: str, intensity: int) -> str:
    if emotion == "neutral":
        return "A neutral person speaks with relaxed face."
    return f"A {INTENSITY_ADVERBS[intensity]} {EMOTION_ADJECTIVES[emotion]} person speaks."


def evaluate(lines: list, synthesis: str) -> dict:
    pipeline = TalkingFacePipeline.from_config(PipelineConfig(synthesis=synthesis))

    def motion(line, instruction: str, seed: int, by_meaning: bool) -> np.ndarray:
        audio, transcript = line
        take = pipeline(audio, transcript=transcript, instruction=instruction, seed=seed, fps=25.0,
                        read_by_meaning=by_meaning)
        return np.array(take["arkit"]["weights"])

    train, labels = [], []
    for emotion in EMOTIONS:
        for intensity in ((0,) if emotion == "neutral" else (2, 3)):
            for line in lines:
                for seed in (0, 1):
                    train.append(motion(line, canonical(emotion, intensity), seed, True))
                    labels.append(emotion)
    classifier = EmotionClassifier.fit(train, labels)
    found = {}
    for by_meaning in (False, True):
        asked = [(emotion, motion(line, text, 0, by_meaning)) for text, emotion in PARAPHRASES for line in lines]
        shown = list(zip((emotion for emotion, _ in asked), classifier.predict([m for _, m in asked])))
        right = Counter(asked for asked, seen in shown if asked == seen)
        found["with reading" if by_meaning else "grammar alone"] = {
            "right": sum(right.values()), "of": len(shown),
            "per emotion": {e: f"{right[e]}/{sum(1 for a, _ in shown if a == e)}" for e in EMOTIONS}}
    return found


def diversity(line, synthesis: str, takes: int = 4) -> dict:
    """How far takes of one instruction differ, against how far takes of two instructions differ: the mean
    frame-wise distance between takes (expression: ARKit weights without blinks, RMS; head: rotation,
    degrees RMS), for every emotion at "very" and seeds 1.. (take 1 is the typical style, not a sample)."""
    from .metrics import without_blinks

    pipeline = TalkingFacePipeline.from_config(PipelineConfig(synthesis=synthesis))
    audio, transcript = line
    found = {}
    for emotion in EMOTIONS:
        found[emotion] = [pipeline.takes(audio, transcript=transcript, instruction=canonical(emotion, 3), seed=1,
                                         samples=takes + 1, fps=25.0)[1:]]
    face = {e: [without_blinks(np.array(t["arkit"]["weights"])) for t in found[e][0]] for e in EMOTIONS}
    head = {e: [np.degrees(np.array(t["head"]["rotation"])) for t in found[e][0]] for e in EMOTIONS}

    def rms(a, b):
        return float(np.sqrt(np.mean((a - b) ** 2)))

    def within(parts):
        return float(np.mean([rms(a, b) for e in EMOTIONS for i, a in enumerate(parts[e]) for b in parts[e][i + 1:]]))

    def across(parts):
        return float(np.mean([rms(parts[e][0], parts[f][0]) for i, e in enumerate(EMOTIONS) for f in EMOTIONS[i + 1:]]))

    return {"face within": within(face), "face across": across(face), "head within": within(head),
            "head across": across(head)}


def understood() -> dict:
    readings = [read_instruction(text) for text, _ in PARAPHRASES]
    return {"by grammar": sum(r.by == "grammar" and not r.unused for r in readings),
            "by meaning": sum(r.by == "meaning" for r in readings),
            "grammar, some words unused": sum(r.by == "grammar" and bool(r.unused) for r in readings),
            "nothing understood (said so)": sum(r.by == "nothing" for r in readings),
            "read as the emotion asked": sum(r.controls.emotion == e for r, (_, e) in zip(readings, PARAPHRASES)),
            "of": len(readings),
            "per emotion (as asked / not understood / as another)": {
                emotion: "/".join(str(sum(1 for r, (_, asked) in zip(readings, PARAPHRASES) if asked == emotion and test(r)))
                                  for test in (lambda r: r.controls.emotion == emotion, lambda r: r.by == "nothing",
                                               lambda r: r.by != "nothing" and r.controls.emotion != emotion))
                for emotion in EMOTIONS}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model_server.eval.evaluate_paraphrases",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2, help="real lines to animate each paraphrase on (1-4)")
    parser.add_argument("--cache", type=Path, default=Path("data/real_speech"))
    parser.add_argument("--synthesis", nargs="+", default=list(SYNTHESES), choices=SYNTHESES)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    keys = LINE_KEYS[:max(1, min(args.lines, len(LINE_KEYS)))]
    recordings = {r.name: r for r in asterisk_recordings(args.cache, keys=set(keys))}
    lines = [(load_audio(recordings[k].path), recordings[k].transcript) for k in keys if k in recordings]
    if not lines:
        print("Asterisk's English prompts are missing: apt-get install asterisk-core-sounds-en-g722", file=sys.stderr)
        return 1
    results = {"paraphrases": len(PARAPHRASES), "lines": [k for k in keys if k in recordings],
               "reading": understood()}
    print(f"{len(PARAPHRASES)} held-out paraphrases on {len(lines)} real lines")
    print("reading: " + ", ".join(f"{k} {v}" for k, v in results["reading"].items() if not isinstance(v, dict)))
    print("reading per emotion (as asked/not understood/as another): "
          + " ".join(f"{e} {v}" for e, v in results["reading"]["per emotion (as asked / not understood / as another)"].items()))
    print(f"{'synthesis':10s} {'read with':14s} {'emotion shown':>14s}   per emotion")
    for synthesis in args.synthesis:
        results[synthesis] = evaluate(lines, synthesis)
        for mode, row in results[synthesis].items():
            share = f"{row['right']}/{row['of']} ({row['right'] / row['of']:.0%})"
            print(f"{synthesis:10s} {mode:14s} {share:>14s}   "
                  + " ".join(f"{e} {v}" for e, v in row["per emotion"].items()))
    print("diversity of takes: mean RMS distance between takes of one instruction (within) and of two "
          "instructions (across), 4 sampled takes of each emotion at 'very' on the first line")
    for synthesis in args.synthesis:
        spread = results.setdefault("diversity", {})[synthesis] = diversity(lines[0], synthesis)
        print(f"{synthesis:10s} face within {spread['face within']:.4f} across {spread['face across']:.4f} "
              f"(ratio {spread['face within'] / spread['face across']:.2f}); head within "
              f"{spread['head within']:.2f}° across {spread['head across']:.2f}°")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
