"""Evaluate the instruction agents (baseline, learned) on held-out synthetic speech and on prompts users check.

    python -m model_server.eval.evaluate_agent --corpus data/corpus [--limit N] [--weights DIR] [--lm PATH]

Prints one markdown table per section, agents as rows:
- held-out synthetic (test split: unseen speakers and sentences): emotion accuracy, intensity accuracy
  (exact), both together, and the share of the agent's own replies that already parse in the grammar;
- short utterances: the same on one to three words of test clips in their voices and styles;
- prosody pairs: the same sentence spoken fast, loud and high versus slow, soft and low (espeak-ng, one
  voice): how often the two instructions differ, and how often the lively reading gets the higher arousal;
- content pairs: a happy and a sad sentence spoken alike with neutral prosody: how often the
  instructions differ in emotion, and how often the happy one is the more positive;
- emotional lines: the held-out lines of train/emotional_lines.py in the same plain voice: how often
  the emotion is the line's, and how often its valence (positive, neutral, negative) is;
- read speech (ALSA's and KLettres' recordings, read calmly): share written as neutral or slight;
- latency per 10 s of speech, warm, agent only (the speech front end is shared and timed apart).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ..agent.baseline import BaselineInstructionAgent
from ..agent.grammar import is_grammatical, parse_instruction
from ..agent.grammar_decoding import HEAD_RULES
from ..agent.language_model import DTYPES
from ..agent.registry import load_agent
from ..audio.front_end import SpeechFrontEnd
from ..audio.loading import load_audio
from ..audio.types import SpeechAnalysis
from ..train.corpus import synthesize_speech
from ..train.emotional_lines import split_lines
from ..train.model_card import write_evaluation
from ..train.styles import EspeakParams
from ..train.synthesis_data import clip_path, read_manifest, stored_audio
from ..train.voices import Voice
from .evaluate_synthesis import ALSA_SOUNDS, KLETTRES_EN, real_speech_files
from .short_utterances import short_records, speak_short_utterance

FPS = 25.0
AROUSAL = {"neutral": 0, "sad": -1, "contempt": 0, "disgusted": 0, "happy": 1, "fearful": 1, "surprised": 2, "angry": 2}
VALENCE = {"happy": 1, "surprised": 0.5, "neutral": 0, "contempt": -0.5, "disgusted": -1, "fearful": -1, "sad": -1,
           "angry": -1}
PAIR_VOICE = Voice("en-us", "m3")
LIVELY = EspeakParams(rate=220, pitch=75, range_percent=180, amplitude=160, word_gap=0)
SUBDUED = EspeakParams(rate=120, pitch=25, range_percent=40, amplitude=40, word_gap=2)
PLAIN = EspeakParams(rate=165, pitch=50, range_percent=100, amplitude=100, word_gap=0)
PROSODY_SENTENCES = ("I need you to come here right now.", "We are leaving for the station in ten minutes.",
                     "That is not what you told me yesterday.", "The letter arrived this morning.")
CONTENT_PAIRS = (("I can't believe we won, this is wonderful!", "I'm so sorry, he didn't make it."),
                 ("What a lovely surprise, thank you so much!", "I miss her every single day."),
                 ("We did it, I'm so proud of you!", "Nobody came to the funeral."),
                 ("This is the best day of my life.", "I lost my job and I don't know what to do."))


def espeak_analysis(front_end: SpeechFrontEnd, sentence: str, params: EspeakParams) -> SpeechAnalysis:
    with tempfile.TemporaryDirectory(prefix="agent-eval-") as folder:
        wav = Path(folder) / "speech.wav"
        synthesize_speech(sentence, PAIR_VOICE, params, wav)
        audio = load_audio(wav)
    return front_end.analyze(audio, sentence, FPS)


def emotion_of(instruction: str) -> tuple[str, int]:
    controls = parse_instruction(instruction)
    return controls.emotion, controls.intensity


def label_accuracy(agents: dict, labelled, writes: dict | None = None) -> tuple[int, dict]:
    """How many (emotion, intensity) labelled analyses the iterable gave, and per agent: emotion, intensity,
    both, and the share of its own replies that already parse in the grammar. `writes` gets each agent's
    instructions per analysis (the whole clip's, then its segments')."""
    rows = {name: {"emotion": [], "intensity": [], "both": [], "grammatical": []} for name in agents}
    count = 0
    for (true_emotion, true_intensity), analysis in labelled:
        count += 1
        for name, agent in agents.items():
            instruction, segments = agent.instruct(analysis)
            if writes is not None:
                writes.setdefault(name, []).append([instruction] + [s["instruction"] for s in segments])
            emotion, intensity = emotion_of(instruction)
            row = rows[name]
            row["emotion"].append(emotion == true_emotion)
            row["intensity"].append(intensity == true_intensity)
            row["both"].append(emotion == true_emotion and intensity == true_intensity)
            # What the agent wrote before any rewriting: a language model's raw replies, a rule agent's output.
            written = getattr(agent, "last_replies", None) or [instruction] + [s["instruction"] for s in segments]
            row["grammatical"] += [is_grammatical(text) for text in written]
    return count, {name: {k: float(np.mean(v)) if v else float("nan") for k, v in row.items()} for name, row in rows.items()}


def held_out(agents: dict, corpus: Path, limit: int | None, front_end: SpeechFrontEnd, writes: dict | None = None) -> dict:
    records = [r for r in read_manifest(corpus) if r["split"] == "test" and clip_path(corpus, r["id"]).exists()][:limit]

    def labelled():
        for record in records:
            with np.load(clip_path(corpus, record["id"])) as arrays:
                audio = stored_audio(arrays, record["id"])
            yield (record["emotion"], record["intensity"]), front_end.analyze(audio, record["sentence"], FPS)

    clips, rows = label_accuracy(agents, labelled(), writes)
    return {"clips": clips, "rows": rows}


def dtype_agreement(writes: dict, agent: str, reference: str) -> dict:
    """How often `agent` writes what `reference` (the same model in float32 throughout) writes: the
    whole clip's opening (emotion and intensity), and every instruction word for word."""
    pairs = list(zip(writes[agent], writes[reference]))
    openings = [emotion_of(mine[0]) == emotion_of(theirs[0]) for mine, theirs in pairs]
    same = [a == b for mine, theirs in pairs for a, b in zip(mine, theirs)]
    return {"clips": len(pairs), "instructions": len(same),
            "rows": {agent: {"whole clip's opening the same": float(np.mean(openings)),
                             "instructions the same word for word": float(np.mean(same))}}}


def short_utterances(agents: dict, corpus: Path, limit: int | None, front_end: SpeechFrontEnd) -> dict:
    """One to three words of held-out clips' sentences in their voices and styles (short_utterances.py)."""
    records = short_records([r for r in read_manifest(corpus) if clip_path(corpus, r["id"]).exists()])[:limit]

    def labelled():
        for record in records:
            try:
                text, heard = speak_short_utterance(record)
            except subprocess.SubprocessError:  # a sox chain it refuses (pitch down, then a high low-pass)
                continue
            yield (record["emotion"], record["intensity"]), front_end.analyze(heard, text, FPS)

    clips, rows = label_accuracy(agents, labelled())
    return {"clips": clips, "rows": rows}


def prosody_pairs(agents: dict, front_end: SpeechFrontEnd) -> dict:
    pairs = [(espeak_analysis(front_end, s, LIVELY), espeak_analysis(front_end, s, SUBDUED)) for s in PROSODY_SENTENCES]
    table = {}
    for name, agent in agents.items():
        differ, ordered = [], []
        for lively, subdued in pairs:
            a, b = emotion_of(agent.instruct(lively)[0]), emotion_of(agent.instruct(subdued)[0])
            differ.append(a != b)
            ordered.append(AROUSAL[a[0]] * max(a[1], 1) > AROUSAL[b[0]] * max(b[1], 1))
        table[name] = {"differ": float(np.mean(differ)), "lively reads as more aroused": float(np.mean(ordered))}
    return {"pairs": len(pairs), "rows": table}


def content_pairs(agents: dict, front_end: SpeechFrontEnd) -> dict:
    pairs = [(espeak_analysis(front_end, h, PLAIN), espeak_analysis(front_end, s, PLAIN)) for h, s in CONTENT_PAIRS]
    table = {}
    for name, agent in agents.items():
        differ, ordered = [], []
        for happy, sad in pairs:
            a, b = emotion_of(agent.instruct(happy)[0])[0], emotion_of(agent.instruct(sad)[0])[0]
            differ.append(a != b)
            ordered.append(VALENCE[a] > VALENCE[b])
        table[name] = {"differ": float(np.mean(differ)), "happy line reads as more positive": float(np.mean(ordered))}
    return {"pairs": len(pairs), "rows": table}


def emotional_lines(agents: dict, front_end: SpeechFrontEnd) -> dict:
    lines = [(emotion, espeak_analysis(front_end, line, PLAIN)) for emotion, line in split_lines("test")]
    table = {}
    for name, agent in agents.items():
        said = [(emotion, emotion_of(agent.instruct(analysis)[0])[0]) for emotion, analysis in lines]
        table[name] = {"emotion": float(np.mean([e == w for e, w in said])),
                       "valence": float(np.mean([np.sign(VALENCE[e]) == np.sign(VALENCE[w]) for e, w in said]))}
    return {"lines": len(lines), "rows": table}


def read_speech(agents: dict, front_end: SpeechFrontEnd) -> dict:
    analyses = [front_end.analyze(load_audio(path), text, FPS) for path, text in real_speech_files([ALSA_SOUNDS, KLETTRES_EN])]
    table = {}
    for name, agent in agents.items():
        calm = [emotion_of(agent.instruct(a)[0]) for a in analyses]
        table[name] = {"neutral or slight": float(np.mean([e == "neutral" or i <= 1 for e, i in calm])) if calm else float("nan")}
    return {"files": len(analyses), "rows": table}


def latency(agents: dict, front_end: SpeechFrontEnd, repeats: int = 3) -> dict:
    from ..config import DEMO_AUDIO, DEMO_TRANSCRIPT

    analysis = front_end.analyze(load_audio(DEMO_AUDIO), DEMO_TRANSCRIPT.read_text().strip(), FPS)
    table = {}
    for name, agent in agents.items():
        agent.instruct(analysis)  # warm
        start = time.perf_counter()
        for _ in range(repeats):
            agent.instruct(analysis)
        seconds = (time.perf_counter() - start) / repeats
        table[name] = {"s per 10 s of speech": seconds * 10.0 / analysis.audio.duration}
    return {"audio_seconds": analysis.audio.duration, "rows": table}


def markdown(title: str, section: dict) -> str:
    rows = section["rows"]
    columns = list(next(iter(rows.values())).keys())
    lines = [f"### {title}", "", "| agent | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    lines += [f"| {name} | " + " | ".join(f"{v:.3f}" for v in row.values()) + " |" for name, row in rows.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model_server.eval.evaluate_agent", description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=None, help="test clips (in manifest order)")
    parser.add_argument("--weights", type=Path, default=None, help="the learned agent's adapter (default: assets/models/agent)")
    parser.add_argument("--lm", type=Path, default=None, help="the language model directory it was trained for")
    parser.add_argument("--head-rule", choices=HEAD_RULES, default=None,
                        help="how the learned agent picks the instruction's emotion and intensity "
                             "(agent/grammar_decoding.py; default: the agent's own)")
    parser.add_argument("--dtype", choices=DTYPES, default=None,
                        help="the dtype the learned agent's language model writes replies in after their opening "
                             "(default float32; with another, float32 throughout is evaluated beside it)")
    parser.add_argument("--card", type=Path, default=None, help="a MODEL_CARD.md whose evaluation section gets these tables")
    args = parser.parse_args(argv)
    agents = {"baseline": BaselineInstructionAgent(), "learned": load_agent("learned", weights=args.weights, lm=args.lm,
                                                                             dtype=args.dtype)}
    float32 = None
    if agents["learned"].describe()["continuation_dtype"] != "float32":  # the reference it is compared with
        float32 = load_agent("learned", weights=args.weights, lm=args.lm, dtype="float32")
    for agent in (agents["learned"], float32):
        if args.head_rule is not None and agent is not None:
            agent.head_rule = args.head_rule
    front_end = SpeechFrontEnd()
    writes = {}
    compared = dict(agents, **({"learned, float32 throughout": float32} if float32 else {}))
    sections = [("Held-out synthetic speech (test split, {clips} clips)", held_out(compared, args.corpus, args.limit, front_end, writes)),
                ("Short utterances, held out (1–3 words of test clips, same voices and styles; {clips} clips)",
                 short_utterances(agents, args.corpus, args.limit, front_end)),
                ("Prosody pairs (same sentence, lively vs subdued; {pairs} pairs)", prosody_pairs(agents, front_end)),
                ("Content pairs (happy vs sad line, same plain voice; {pairs} pairs)", content_pairs(agents, front_end)),
                ("Emotional lines, held out (same plain voice; {lines} lines)", emotional_lines(agents, front_end)),
                ("Read speech, calm (ALSA, KLettres; {files} files)", read_speech(agents, front_end)),
                ("Latency, warm, CPU (demo speech, {audio_seconds:.1f} s)", latency(compared, front_end))]
    if float32 is not None:
        sections.append(("The learned agent against float32 throughout (held-out clips: {clips} clips, {instructions} "
                         "instructions)", dtype_agreement(writes, "learned", "learned, float32 throughout")))
    tables = [markdown(title.format(**section), section) for title, section in sections]
    print("\n\n".join(tables))
    if args.card is not None:
        command = "python -m model_server.eval.evaluate_agent " + " ".join(sys.argv[1:])
        learned = agents["learned"]
        rule = (f"The learned agent chose each instruction's opening by the `{learned.head_rule}` head rule; its "
                f"language model scored the openings in {learned.describe()['dtype']} and wrote the rest in "
                f"{learned.describe()['continuation_dtype']}.")
        write_evaluation(args.card, f"`{command}`\n\n{rule}\n\n" + "\n\n".join(tables))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
