"""Head, eyes and moving expression on real recordings, for both synthesizers: the figures of a face that
is alive, and proof that it leaves the lips alone.

    python -m model_server.eval.evaluate_nonverbal [--source asterisk librivox alsa] [--limit 30]
        [--pairs 10] [--cache data/real_speech] [--weights DIR] [--json PATH] [--card PATH ...]

Each clip (and pairs of other Asterisk prompts joined by 1.5 s of silence, since the recordings hold no long
pause of their own) is force-aligned with its transcript and animated at 25 fps by each synthesizer under three
instructions (neutral, aroused, and "head held still"), the whole take as the product makes it
(nonverbal/compose.py). Printed per synthesizer and instruction:

- head: rotation standard deviation and range (5th to 95th percentile) in degrees per axis, over all frames;
  beat alignment: the share of head-pitch velocity extrema within ±0.2 s of a pitch accent or loudness
  onset, found here apart from the motion's own accent finder (an f0 peak 1.5 semitones over the clip's
  median, or loudness up 10 dB within 0.1 s), against the same motion shifted by a random 1 s or more (the
  chance level, 20 shifts); motion in long pauses: mean angular speed (degrees/s) in pauses of 0.6 s or
  more (the silence before the first word and after the last included), 0.3 s in from their ends,
  against during speech;
- eyes, where they look (the eye's angles plus the head's yaw and pitch, which the eyes make up for):
  saccades per minute (a frame-to-frame gaze step over 1°), their magnitudes (median, 90th
  percentile), the share of time in eye contact (within 3° of the contact direction: on the listener's
  face), the largest
  frame-to-frame step;
- expression: per segment, the standard deviation over time of the instruction's channels (those it
  raises by 0.05 or more), and the correlation of their sum with loudness and with pitch over speech;
- lips: /p b m/ closure, /f v/, rounding and open-vowel opening of the whole take against the
  synthesizer's own motion for the same instruction as the face reads it (its head and gaze phrases left
  out), without head, eyes and moving expression.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..arkit import ARKIT_NAMES
from ..agent.grammar import without_motion_phrases
from ..audio.alignment import AlignmentFailed, align_phones
from ..audio.front_end import SpeechFrontEnd
from ..audio.loading import load_audio
from ..audio.types import SAMPLE_RATE, Audio
from ..errors import AudioError
from ..nonverbal.accents import LONG_PAUSE_S, find_phrases
from ..nonverbal.compose import alive_take
from ..train.model_card import write_section
from .evaluate_real_speech import DEFAULT_CACHE, score_motion
from .evaluate_synthesis import Table, load_candidates
from .metrics import without_blinks
from .real_recordings import real_recordings

FPS = 25.0
SEED = 3
INSTRUCTIONS = {
    "neutral": "A neutral person speaks with relaxed face.",
    "aroused": "A very angry person speaks with brow strongly lowered, eyes fairly narrowed, lips fairly pressed, "
               "and speaking energy strongly high.",
    "held still": "A neutral person speaks with head held still.",
}
BEAT_WINDOW_S, SHIFTS, MIN_SHIFT_S = 0.2, 20, 1.0
SACCADE_STEP_DEG, CONTACT_DEG = 1.0, 3.0  # eye contact: on the listener's face, within 3°
DEFAULT_SOURCES = ("asterisk", "librivox", "alsa")
PAIR_PAUSE_S = 1.5  # the recordings have no long pauses of their own: pairs joined by one stand in for them
# Targets chosen from the literature (behaviour.py names the sources).
TARGETS = {
    "head std": "1-5° per axis: conversational head motion is a few degrees (Busso et al. 2007)",
    "head range": "under 20° per axis",
    "beats": "above the shifted control: head movements cluster on accents (Graf et al. 2002)",
    "pauses": "slower in long pauses than in speech",
    "saccades": "20-120 per minute, median magnitude a few degrees (Eyes Alive: P(A) ∝ exp(-A/6.9))",
    "contact": "0.4-0.75 while speaking (Argyle & Cook: about 0.4; TalkingHead's default 0.5)",
    "largest step": "no more than the largest saccade plus a frame of head-free drift: under 16°",
    "held still": "0 head motion",
}


@dataclass
class Pool:
    rotation: list = field(default_factory=list)  # (T, 3) degrees per clip
    beats: list = field(default_factory=lambda: [0, 0])  # extrema near an event, extrema
    shifted: list = field(default_factory=lambda: [0.0, 0])
    pause_speed: list = field(default_factory=list)
    speech_speed: list = field(default_factory=list)
    saccades: list = field(default_factory=list)  # magnitudes, degrees
    minutes: float = 0.0
    contact_frames: int = 0
    frames: int = 0
    largest_step: float = 0.0
    expression_std: list = field(default_factory=list)
    loudness_r: list = field(default_factory=list)
    pitch_r: list = field(default_factory=list)
    lips: dict = field(default_factory=dict)  # figure -> [alive, plain] sums


def prosodic_events(prosody) -> np.ndarray:
    """Times (s) of pitch accents (f0 peaks 1.5 st over the median) and loudness onsets (+10 dB in 0.1 s)."""
    fps, f0, loud = prosody.fps, prosody.f0, prosody.loudness
    voiced = f0 > 0
    events = []
    if voiced.sum() >= 3:
        semitones = np.where(voiced, 12 * np.log2(np.where(voiced, f0, 1) / np.median(f0[voiced])), -99)
        for i in range(1, len(f0) - 1):
            if semitones[i] > 1.5 and semitones[i] >= semitones[i - 1] and semitones[i] > semitones[i + 1]:
                events.append(i / fps)
    lag = max(1, int(round(0.1 * fps)))
    rise = loud[lag:] - loud[:-lag]
    for i in np.flatnonzero((rise[1:] > 10) & (rise[:-1] <= 10)):
        events.append((i + 1 + lag) / fps)
    return np.array(sorted(events))


def velocity_extrema(signal: np.ndarray, fps: float) -> np.ndarray:
    """Frames where the velocity has a local extremum above a fifth of its largest."""
    velocity = np.diff(signal) * fps
    if len(velocity) < 3 or np.abs(velocity).max() < 1e-9:
        return np.array([], dtype=int)
    inner = velocity[1:-1]
    peaks = ((inner > velocity[:-2]) & (inner >= velocity[2:])) | ((inner < velocity[:-2]) & (inner <= velocity[2:]))
    return np.flatnonzero(peaks & (np.abs(inner) > 0.2 * np.abs(velocity).max())) + 1


def near(times: np.ndarray, events: np.ndarray, window: float) -> int:
    if len(events) == 0:
        return 0
    return int(sum(np.min(np.abs(events - t)) <= window for t in times))


def add_clip(pool: Pool, take, plain: np.ndarray, analysis, phones, reference, rng: np.random.Generator) -> None:
    fps, frames = FPS, len(take.arkit)
    degrees = np.degrees(take.head_rotation)
    pool.rotation.append(degrees)
    events = prosodic_events(analysis.prosody)
    extrema = velocity_extrema(degrees[:, 0], fps)
    pool.beats[0] += near(extrema / fps, events, BEAT_WINDOW_S)
    pool.beats[1] += len(extrema)
    duration = frames / fps
    if duration > 2 * MIN_SHIFT_S:
        for _ in range(SHIFTS):
            shift = rng.uniform(MIN_SHIFT_S, duration - MIN_SHIFT_S)
            pool.shifted[0] += near((extrema / fps + shift) % duration, events, BEAT_WINDOW_S) / SHIFTS
        pool.shifted[1] += len(extrema)
    speed = np.linalg.norm(np.diff(degrees, axis=0), axis=1) * fps
    times = np.arange(len(speed)) / fps
    phrases = find_phrases(phones)
    pause = np.zeros(len(speed), dtype=bool)
    edges = [(a.end, b.start) for a, b in zip(phrases, phrases[1:])]
    if phrases:  # the silence before the first word and after the last are pauses too
        edges += [(0.0, phrases[0].start), (phrases[-1].end, duration)]
    for start, end in edges:
        if end - start >= LONG_PAUSE_S:
            pause |= (times > start + 0.3) & (times < end - 0.3)  # inside the pause, after the settle
    speaking = np.zeros(len(speed), dtype=bool)
    for phrase in phrases:
        speaking |= (times >= phrase.start) & (times < phrase.end)
    if pause.any():
        pool.pause_speed.append(float(speed[pause].mean()))
    if speaking.any():
        pool.speech_speed.append(float(speed[speaking].mean()))

    gaze = np.degrees(take.left_eye + take.head_rotation[:, [1, 0]])  # where the eye looks, the head's turn added
    steps = np.linalg.norm(np.diff(gaze, axis=0), axis=1)
    moving = steps > SACCADE_STEP_DEG
    starts = np.flatnonzero(moving & ~np.concatenate([[False], moving[:-1]]))
    for start in starts:
        end = start
        while end + 1 < len(moving) and moving[end + 1]:
            end += 1
        pool.saccades.append(float(np.linalg.norm(gaze[end + 1] - gaze[start])))
    pool.minutes += duration / 60
    contact = np.median(gaze, axis=0)  # the held direction: eye contact is where the eyes rest most
    pool.contact_frames += int((np.linalg.norm(gaze - contact, axis=1) <= CONTACT_DEG).sum())
    pool.frames += frames
    pool.largest_step = max(pool.largest_step, float(steps.max(initial=0.0)))

    expression = take.layers["expression"]
    channels = np.flatnonzero(np.abs(expression).mean(axis=0) >= 0.05)
    if len(channels):
        times_f = np.arange(frames) / fps
        speech = np.zeros(frames, dtype=bool)
        for phrase in phrases:
            speech |= (times_f >= phrase.start) & (times_f < phrase.end)
        pool.expression_std.append(float(expression[speech][:, channels].std(axis=0).mean()))
        total = expression[speech][:, channels].sum(axis=1)
        loud = analysis.prosody.loudness_norm[speech]
        f0 = analysis.prosody.f0[speech]
        if total.std() > 1e-9 and loud.std() > 1e-9:
            pool.loudness_r.append(float(np.corrcoef(total, loud)[0, 1]))
        voiced = f0 > 0
        if voiced.sum() > 5 and total[voiced].std() > 1e-9:
            pool.pitch_r.append(float(np.corrcoef(total[voiced], np.log2(f0[voiced]))[0, 1]))

    for label, motion in (("alive", take.arkit), ("plain", plain)):
        scores = score_motion(without_blinks(motion), reference, fps)
        for key, value in scores.items():  # counts add up; per-phone lists are pooled
            slot = pool.lips.setdefault(key, {"alive": [] if isinstance(value, list) else 0.0,
                                              "plain": [] if isinstance(value, list) else 0.0})
            if isinstance(value, list) or np.isfinite(value):
                slot[label] += value


def pool_row(pool: Pool) -> dict:
    rotation = np.concatenate(pool.rotation) if pool.rotation else np.zeros((0, 3))
    lips = pool.lips

    def share(a, b):
        return a / b if b else float("nan")

    saccades = np.array(pool.saccades)
    return {
        "head std (pitch/yaw/roll °)": "/".join(f"{v:.2f}" for v in rotation.std(axis=0)) if len(rotation) else "-",
        "head range (°)": "/".join(f"{v:.1f}" for v in np.percentile(rotation, 95, axis=0)
                                   - np.percentile(rotation, 5, axis=0)) if len(rotation) else "-",
        "beats near accents": round(share(*pool.beats), 3),
        "shifted control": round(share(*pool.shifted), 3),
        "°/s in long pauses / speech": f"{np.mean(pool.pause_speed) if pool.pause_speed else float('nan'):.2f} / "
                                       f"{np.mean(pool.speech_speed) if pool.speech_speed else float('nan'):.2f}",
        "saccades / min": round(len(saccades) / pool.minutes, 1) if pool.minutes else float("nan"),
        "saccade ° (median, p90)": f"{np.median(saccades):.1f}, {np.percentile(saccades, 90):.1f}" if len(saccades) else "-",
        "eye contact": round(share(pool.contact_frames, pool.frames), 3),
        "largest eye step (°)": round(pool.largest_step, 1),
        "expression std": round(float(np.mean(pool.expression_std)), 4) if pool.expression_std else 0.0,
        "r(loudness)": round(float(np.mean(pool.loudness_r)), 3) if pool.loudness_r else float("nan"),
        "r(pitch)": round(float(np.mean(pool.pitch_r)), 3) if pool.pitch_r else float("nan"),
        "closure alive / plain": f"{share(lips['closed']['alive'], lips['bilabials']['alive']):.3f} / "
                                 f"{share(lips['closed']['plain'], lips['bilabials']['plain']):.3f}" if lips else "-",
        "/f v/ alive / plain": f"{share(lips['tucked']['alive'], lips['labiodentals']['alive']):.3f} / "
                               f"{share(lips['tucked']['plain'], lips['labiodentals']['plain']):.3f}" if lips else "-",
        "rounding alive / plain": " / ".join(f"{_mean(lips['rounded'][k]) - _mean(lips['spread'][k]):.3f}"
                                             for k in ("alive", "plain")) if lips else "-",
        "opening alive / plain": " / ".join(f"{_mean(lips['opening'][k]):.3f}" for k in ("alive", "plain"))
                                 if lips else "-",
    }


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else float("nan")


CARD_SECTION = "nonverbal"
CARD_NOTE = ("Head motion, gaze and the expression's course are not learned: both synthesizers' output is composed "
             "with the nonverbal layer (model_server/nonverbal/), from the same speech analysis, so the head and eye "
             "figures are the same for both; the expression and lip figures are each model's own.")


def joined_audio(parts: list[Audio]) -> Audio:
    """Recordings one after another with PAIR_PAUSE_S of silence between: a line with a thinking pause."""
    if len(parts) == 1:
        return parts[0]
    gap = np.zeros(int(PAIR_PAUSE_S * SAMPLE_RATE), dtype=np.float32)
    samples = np.concatenate([piece for part in parts for piece in (part.samples, gap)][:-1])
    return Audio(samples, SAMPLE_RATE, "+".join(part.source for part in parts))


def evaluate(sources, limit: int | None, cache: Path, weights: Path | None, out=None,
             cards: list[Path] | None = None, pause_pairs: int = 10) -> dict:
    out = out or sys.stdout
    notes: list[str] = []
    candidates = load_candidates(weights, notes)
    recordings, missing = real_recordings(cache, tuple(sources))
    notes += missing
    by_source: dict[str, list] = {}
    for recording in recordings:
        by_source.setdefault(recording.source, []).append(recording)
    chosen = [r for group in by_source.values() for r in (group[:limit] if limit else group)]
    front_end = SpeechFrontEnd()
    pools = {(c.name, name): Pool() for c in candidates for name in INSTRUCTIONS}
    rng = np.random.default_rng(SEED)
    used = 0
    pairs = by_source.get("asterisk", [])[limit or 0:][: 2 * pause_pairs]  # clips not used alone above
    lines = [(r.key, [r]) for r in chosen] + [(f"{a.key}+{b.key}", [a, b]) for a, b in zip(pairs[::2], pairs[1::2])]
    for key, parts in lines:
        try:
            audio = joined_audio([load_audio(r.path) for r in parts])
            reference = align_phones(audio, " ".join(r.transcript for r in parts), recognize=False,
                                     check_fit=False)
        except (AudioError, AlignmentFailed) as exc:  # a clip that cannot be judged is skipped, and said
            notes.append(f"{key}: skipped ({type(exc).__name__})")
            continue
        if reference.method != "forced":
            continue
        analysis = front_end.with_alignment(audio, reference, FPS)
        used += 1
        for candidate in candidates:
            for name, instruction in INSTRUCTIONS.items():
                segments = [{"start": 0.0, "end": audio.duration, "instruction": instruction}]
                take = alive_take(candidate.model, analysis, segments, seed=SEED, fps=FPS, guidance=None,
                                  sampled=False)
                face = [dict(s, instruction=without_motion_phrases(s["instruction"])) for s in segments]
                plain = candidate.model.synthesize(analysis, face, seed=SEED, fps=FPS, guidance=None,
                                                   sampled=False).arkit  # the face as the synthesizer makes it
                add_clip(pools[(candidate.name, name)], take, plain, analysis, reference.phones, reference.phones,
                         rng)
    rows = {f"{model}, {name}": pool_row(pool) for (model, name), pool in pools.items()}
    columns = list(next(iter(rows.values())).keys()) if rows else []
    title = (f"Nonverbal motion on {used} lines of real speech ({', '.join(sources)}, at most {limit} per source; "
             f"and {pause_pairs} pairs of other Asterisk prompts joined by {PAIR_PAUSE_S:g} s of silence), "
             f"{FPS:g} fps, seed {SEED}")
    markdown = Table(title, columns, rows).markdown()
    targets = "Targets:\n" + "\n".join(f"- {key}: {target}" for key, target in TARGETS.items())
    print(markdown + "\n\n" + targets, file=out)
    for note in notes:
        print(f"note: {note}", file=out)
    command = "python -m model_server.eval.evaluate_nonverbal " + " ".join(sys.argv[1:])
    for card in cards or []:
        write_section(card, CARD_SECTION, "## Head, eyes and moving expression",
                      f"`{command}`\n\n{CARD_NOTE}\n\n{markdown}\n\n{targets}")
    return {"clips": used, "rows": rows, "notes": notes, "arkit_names": list(ARKIT_NAMES)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", nargs="+", default=list(DEFAULT_SOURCES))
    parser.add_argument("--limit", type=int, default=30, help="recordings per source (default 30)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--weights", type=Path, help="learned synthesis weights (default: the shipped ones)")
    parser.add_argument("--pairs", type=int, default=10,
                        help="pairs of other Asterisk prompts joined by a pause, for the head in long pauses (default 10)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument("--card", type=Path, nargs="*", default=[], help="write the table into these model cards")
    args = parser.parse_args(argv)
    result = evaluate(args.source, args.limit, args.cache, args.weights, cards=args.card, pause_pairs=args.pairs)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
