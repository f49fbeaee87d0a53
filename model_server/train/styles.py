"""Speaking styles for the corpus: an emotion at an intensity, the face's controls varied around the
emotion's prototype, an instruction written in one of several phrasings, and how espeak should sound.

The face target follows the sampled controls exactly; the instruction describes them in words (its
degree words round the strengths, as a person's would). Every phrasing parses back to the sampled
emotion and intensity (tests/model_server/train/test_styles.py checks all of them).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..agent.grammar import (ACTION_KEYS, EMOTION_ADJECTIVES, EMOTIONS, StyleControls, controls_for_emotion,
                             format_instruction, parse_instruction)

NEUTRAL_SHARE = 0.15  # of clips; the rest spread evenly over the 7 emotions × 3 intensities
CANONICAL_SHARE = 0.5  # of instructions in the agent's own grammar; the rest are free phrasings

# Degree words the parser reads, by the strength they stand for.
_DEGREE_WORDS = {0.25: ("slightly", "a little", "a bit", "subtly"), 0.45: ("mildly", "somewhat"),
                 0.65: ("fairly", "rather", "clearly"), 0.85: ("quite", "tightly", "really"),
                 1.0: ("strongly", "very", "extremely")}
_INTENSITY_WORDS = {1: ("slightly", "mildly", "a bit", "a little", "somewhat"),
                    2: ("fairly", "moderately", "rather", "quite", ""),
                    3: ("very", "extremely", "really", "intensely", "deeply")}
_EMOTION_ADVERBS = {"angry": "angrily", "happy": "happily", "sad": "sadly", "fearful": "fearfully",
                    "contempt": "contemptuously", "disgusted": None, "surprised": None}
_EMOTION_SYNONYMS = {"angry": ("furious", "irritated", "annoyed"), "happy": ("cheerful", "delighted", "joyful"),
                     "sad": ("gloomy", "sorrowful", "disappointed"), "surprised": ("astonished", "amazed"),
                     "fearful": ("scared", "afraid", "frightened", "nervous"), "disgusted": ("revolted",),
                     "contempt": ("scornful", "disdainful")}
# Free phrasings of each facial action; "{d}" is a degree word. Each parses to its action alone.
_ACTION_PHRASES = {
    "brow_lowered": ("brows {d} lowered", "{d} furrowed brows", "eyebrows {d} knitted"),
    "inner_brow_raised": ("{d} raised inner brows", "{d} lifted inner eyebrows"),
    "outer_brow_raised": ("outer brows {d} raised", "{d} raised outer eyebrows"),
    "cheek_raised": ("cheeks {d} raised", "{d} lifted cheeks"),
    "eyes_widened": ("eyes {d} widened", "{d} widened eyes"),
    "eyes_narrowed": ("eyes {d} narrowed", "{d} narrowed eyes"),
    "nose_wrinkled": ("nose {d} wrinkled", "{d} wrinkled nose"),
    "upper_lip_raised": ("upper lip {d} raised", "{d} curled upper lip"),
    "lip_corners_up": ("lip corners {d} pulled up", "mouth corners {d} raised"),
    "lip_corners_down": ("lip corners {d} pulled down", "mouth corners {d} lowered"),
    "lip_stretched": ("lips {d} stretched", "{d} stretched lips"),
    "lip_pressed": ("lips {d} pressed", "{d} pressed lips", "lips {d} tightened"),
    "lip_puckered": ("lips {d} puckered", "{d} pursed lips"),
}
_SINGLE_WORD_ONLY = ("brows {d} lowered", "eyebrows {d} knitted", "outer brows {d} raised", "cheeks {d} raised",
                     "eyes {d} widened", "eyes {d} narrowed", "nose {d} wrinkled", "upper lip {d} raised",
                     "lip corners {d} pulled up", "mouth corners {d} raised", "lip corners {d} pulled down",
                     "mouth corners {d} lowered", "lips {d} stretched", "lips {d} pressed", "lips {d} tightened",
                     "lips {d} puckered")  # the parser allows one word between part and verb

# Speech prosody per emotion at full intensity: rate ×, pitch + (espeak 0..99), pitch range ×, amplitude +.
EMOTION_PROSODY = {
    "neutral": (1.0, 0, 1.0, 0), "angry": (1.15, 6, 1.6, 40), "happy": (1.1, 10, 1.5, 20),
    "surprised": (1.05, 14, 1.8, 20), "fearful": (1.18, 12, 0.8, -10), "sad": (0.78, -10, 0.5, -35),
    "disgusted": (0.9, -6, 1.1, 5), "contempt": (0.9, -4, 1.2, -10),
}


@dataclass(frozen=True)
class SpeakerProsody:
    """One speaker's habits (drawn once per clip alongside the voice)."""

    rate: float  # words per minute at neutral
    pitch: int  # espeak -p at neutral
    range_percent: float  # SSML <prosody range>, 100 = the voice's own
    amplitude: int  # espeak -a at neutral
    word_gap: int  # espeak -g, 10 ms units


@dataclass(frozen=True)
class EspeakParams:
    rate: int
    pitch: int
    range_percent: int
    amplitude: int
    word_gap: int

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class StyleSample:
    emotion: str
    intensity: int
    controls: StyleControls
    instruction: str
    phrasing: str  # which template wrote the instruction


def sample_emotion(rng: np.random.Generator) -> tuple[str, int]:
    if rng.random() < NEUTRAL_SHARE:
        return "neutral", 0
    emotions = [e for e in EMOTIONS if e != "neutral"]
    return emotions[int(rng.integers(len(emotions)))], int(rng.integers(1, 4))


def vary_controls(controls: StyleControls, rng: np.random.Generator) -> StyleControls:
    """The prototype face with per-sample variation: strengths jittered, an action sometimes dropped
    or a minor one added, jaw opening and energy jittered."""
    actions = {k: float(np.clip(v * np.exp(0.18 * rng.standard_normal()), 0.1, 1.0)) for k, v in controls.actions.items()}
    if len(actions) > 1 and rng.random() < 0.15:
        del actions[sorted(actions)[int(rng.integers(len(actions)))]]
    if rng.random() < 0.2:
        others = [k for k in ACTION_KEYS if k not in actions]
        actions[others[int(rng.integers(len(others)))]] = float(rng.uniform(0.15, 0.45))
    jaw = float(np.clip(controls.jaw_scale + 0.08 * rng.standard_normal(), 0.6, 1.5))
    energy = float(np.clip(controls.energy + 0.08 * rng.standard_normal(), 0.6, 1.5))
    ordered = {k: round(actions[k], 2) for k in ACTION_KEYS if k in actions}
    return StyleControls(controls.emotion, controls.intensity, ordered, round(jaw, 2), round(energy, 2))


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(len(options)))]


def _degree(strength: float, rng: np.random.Generator, single_word: bool) -> str:
    level = min(_DEGREE_WORDS, key=lambda s: abs(s - strength))
    words = tuple(w for w in _DEGREE_WORDS[level] if not (single_word and " " in w))
    return _pick(rng, words)


def action_phrases(controls: StyleControls, rng: np.random.Generator) -> list[str]:
    """Free phrasings of the controls' actions, jaw opening and energy, in the grammar's order."""
    phrases = []
    for key in ACTION_KEYS:
        strength = controls.actions.get(key, 0.0)
        if strength < 0.1:
            continue
        template = _pick(rng, _ACTION_PHRASES[key])
        phrases.append(template.format(d=_degree(strength, rng, template in _SINGLE_WORD_ONLY)))
    jaw, energy = controls.jaw_scale - 1.0, controls.energy - 1.0
    if abs(jaw) >= 0.1:
        phrases.append(f"jaw {_degree(min(1.0, abs(jaw) * 2), rng, True)} {'wide' if jaw > 0 else 'small'}")
    if abs(energy) >= 0.1:
        phrases.append(f"speaking energy {_degree(min(1.0, abs(energy) * 2), rng, True)} {'high' if energy > 0 else 'low'}")
    return phrases


def _join(phrases: list[str]) -> str:
    if len(phrases) <= 1:
        return "".join(phrases)
    return ", ".join(phrases[:-1]) + " and " + phrases[-1]


def _emotion_word(emotion: str, rng: np.random.Generator, adverb: bool) -> str:
    if adverb and _EMOTION_ADVERBS.get(emotion):
        return _EMOTION_ADVERBS[emotion]
    if rng.random() < 0.3:
        return _pick(rng, _EMOTION_SYNONYMS[emotion])
    return EMOTION_ADJECTIVES[emotion]


def _with_intensity(intensity: int, word: str, rng: np.random.Generator) -> str:
    adverb = _pick(rng, _INTENSITY_WORDS[intensity])
    return f"{adverb} {word}" if adverb else word


PHRASINGS = ("canonical", "speaking", "headline", "delivery", "emotion-only")


def write_instruction(controls: StyleControls, phrasing: str, rng: np.random.Generator) -> str:
    """Instruction text for the controls in one phrasing (see PHRASINGS)."""
    if phrasing == "canonical":
        return format_instruction(controls)
    phrases = action_phrases(controls, rng)
    body = _join(phrases)
    if controls.emotion == "neutral":
        opening = _pick(rng, ("Calm", "Neutral", "Matter-of-fact", "Speaking calmly"))
        return f"{opening}, {body}." if body else f"{opening}, relaxed face."
    if phrasing == "speaking":
        emotion = _with_intensity(controls.intensity, _emotion_word(controls.emotion, rng, adverb=True), rng)
        return f"Speaking {emotion}, {body}." if body else f"Speaking {emotion}."
    emotion = _with_intensity(controls.intensity, _emotion_word(controls.emotion, rng, adverb=False), rng)
    if phrasing == "headline":
        return f"{emotion[0].upper()}{emotion[1:]}: {body}." if body else f"{emotion[0].upper()}{emotion[1:]}."
    if phrasing == "delivery":
        article = "An" if emotion[0] in "aeiou" else "A"
        return f"{article} {emotion} delivery, with {body}." if body else f"{article} {emotion} delivery."
    return f"Sounding {emotion}."  # emotion-only: the face the emotion implies


def sample_style(rng: np.random.Generator) -> StyleSample:
    emotion, intensity = sample_emotion(rng)
    controls = vary_controls(controls_for_emotion(emotion, intensity), rng)
    if rng.random() < CANONICAL_SHARE:
        phrasing = "canonical"
    else:
        phrasing = PHRASINGS[1 + int(rng.integers(len(PHRASINGS) - 1))]
    instruction = write_instruction(controls, phrasing, rng)
    parsed = parse_instruction(instruction)
    if (parsed.emotion, parsed.intensity) != (emotion, intensity):
        raise ValueError(f"instruction {instruction!r} parses as {parsed.emotion} {parsed.intensity}, "
                         f"not {emotion} {intensity}")
    return StyleSample(emotion, intensity, controls, instruction, phrasing)


def sample_speaker(rng: np.random.Generator) -> SpeakerProsody:
    return SpeakerProsody(rate=float(np.clip(rng.normal(165, 18), 120, 220)),
                          pitch=int(np.clip(rng.normal(50, 10), 20, 80)),
                          range_percent=float(np.clip(rng.normal(100, 20), 50, 160)),
                          amplitude=int(np.clip(rng.normal(100, 10), 70, 130)),
                          word_gap=int(rng.choice([0, 0, 0, 1, 2])))


def espeak_params(style: StyleSample, speaker: SpeakerProsody) -> EspeakParams:
    """The speaker's habits moved toward the emotion in proportion to its intensity."""
    rate, pitch, range_, amplitude = EMOTION_PROSODY[style.emotion]
    k = style.intensity / 3
    return EspeakParams(rate=int(round(speaker.rate * (1 + (rate - 1) * k))),
                        pitch=int(np.clip(round(speaker.pitch + pitch * k), 0, 99)),
                        range_percent=int(round(speaker.range_percent * (1 + (range_ - 1) * k))),
                        amplitude=int(np.clip(round(speaker.amplitude + amplitude * k), 20, 200)),
                        word_gap=speaker.word_gap)


def controls_dict(controls: StyleControls) -> dict:
    return asdict(controls)
