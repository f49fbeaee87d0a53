"""How an instruction the animator typed is read, and what of it changed nothing.

The grammar (grammar.py) reads its own words: emotions, degrees, facial actions, head and gaze phrases.
Everyday words outside it ("she is livid", "grinning from ear to ear") used to give the neutral face in
silence. Here such text is read by meaning: the shipped sentence encoder (all-MiniLM-L6-v2) embeds it, and
the nearest of a bank of reference descriptions gives an emotion and an intensity. The bank follows
Plutchik's wheel of emotions (1980), which names each basic emotion at three intensities (annoyance,
anger, rage; serenity, joy, ecstasy; pensiveness, sadness, grief; apprehension, fear, terror;
distraction, surprise, amazement; boredom, disgust, loathing), with contempt between anger and disgust,
and the facial behaviour of each emotion's prototype (grammar.EMOTION_PROFILES) in plain words. It was
written apart from the paraphrases the evaluation reads (eval/paraphrases.py).

Every reading says what it found and which words changed nothing; text the grammar reads in full is
used as it is, so grammatical instructions give exactly what they gave before.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

import numpy as np

from ..curves import reading_sentence
from .grammar import (
    _ACTION_CUES, _DEGREE_WORDS, _EMOTION_WORDS, _ENERGY_HIGH, _ENERGY_LOW, _INTENSITY_CUES, _JAW_SMALL, _JAW_WIDE,
    _MOTION_CUES, StyleControls, controls_for_emotion, format_instruction,
    parse_instruction,
)

# (description, emotion, intensity): Plutchik's three intensities, then each prototype's behaviour.
REFERENCES = (
    ("mildly annoyed and irritated", "angry", 1), ("angry", "angry", 2), ("in a rage, enraged", "angry", 3),
    ("frowning hard with a clenched jaw, ready to shout", "angry", 3),
    ("calm and serene, quietly content", "happy", 1), ("joyful and glad", "happy", 2),
    ("ecstatic, overjoyed, thrilled", "happy", 3), ("beaming with a broad smile and laughing", "happy", 3),
    ("pensive and a little wistful", "sad", 1), ("sad and unhappy", "sad", 2),
    ("grief-stricken, heartbroken, in despair", "sad", 3), ("crying, tearful, about to weep", "sad", 3),
    ("apprehensive and uneasy", "fearful", 1), ("afraid and frightened", "fearful", 2),
    ("terrified, in terror, panicking", "fearful", 3), ("trembling with wide eyes, dreading the worst", "fearful", 3),
    ("distracted, caught off guard", "surprised", 1), ("surprised", "surprised", 2),
    ("amazed, astounded, stunned", "surprised", 3), ("jaw dropped and eyebrows shot up in disbelief", "surprised", 3),
    ("bored and uninterested", "disgusted", 1), ("disgusted, repulsed", "disgusted", 2),
    ("loathing, utterly revolted, nauseated", "disgusted", 3), ("wrinkling the nose at something foul", "disgusted", 3),
    ("scornful and disdainful, looking down on someone", "contempt", 2),
    ("sneering with a one-sided smirk", "contempt", 3),
    # A thesaurus's synonyms of each emotion's middle word (anger, joy, sadness, fear, surprise, disgust, scorn),
    # each a reference of its own: a list of words embeds as their blur.
    *((word, "angry", 3) for word in ("furious", "livid", "fuming", "irate", "seething", "cross", "mad")),
    *((word, "happy", 2) for word in ("happy", "cheerful", "delighted", "pleased", "elated", "jolly")),
    *((word, "sad", 2) for word in ("sorrowful", "miserable", "gloomy", "downcast", "melancholy", "dejected")),
    *((word, "fearful", 2) for word in ("scared", "nervous", "anxious", "alarmed", "petrified")),
    *((word, "surprised", 2) for word in ("astonished", "shocked", "startled", "taken aback", "flabbergasted")),
    *((word, "disgusted", 2) for word in ("revolted", "sickened", "appalled", "grossed out")),
    *((word, "contempt", 2) for word in ("contemptuous", "haughty", "sneering", "condescending")),
)
# A reading by meaning needs the nearest description close enough, and its emotion standing out from every
# other emotion's nearest (unrelated text, "wearing a hat", comes out about as near to all of them).
MIN_SIMILARITY, MIN_MARGIN = 0.25, 0.04
_NOT_CONTENT = frozenset(
    "a an the and or but with of to in on at by for as is are was were be been being it its this that he she "
    "they them his her their him i you we me my your our person people speaks speak speaking says say said "
    "talks talking face voice very quite fairly slightly mildly strongly somewhat rather really just so".split())
_USED_PATTERNS = ([p for p in _EMOTION_WORDS.values()] + list(_INTENSITY_CUES.values()) + list(_ACTION_CUES.values())
                  + [p for p, _ in _MOTION_CUES.values()]
                  + [_JAW_WIDE, _JAW_SMALL, _ENERGY_HIGH, _ENERGY_LOW, _DEGREE_WORDS,
                     r"relaxed face|jaw opening|speaking energy|person speaks"])


@dataclass
class Reading:
    """What an instruction was read as: its controls, the text the synthesizers read, how it was read."""

    text: str
    controls: StyleControls
    read_as: str  # the instruction the synthesizers read (the text itself where the grammar read it all)
    by: str  # "grammar", "meaning" (nearest reference description) or "nothing" (neutral: nothing understood)
    nearest: str | None = None
    similarity: float | None = None
    unused: list[str] = field(default_factory=list)  # content words that changed nothing

    def summary(self) -> dict:
        """The reading as the API, the curves file and the panel show it."""
        controls = self.controls
        return {"by": self.by, "emotion": controls.emotion, "intensity": controls.intensity,
                "actions": {k: round(v, 2) for k, v in controls.actions.items()},
                "read_as": self.read_as, "nearest": self.nearest,
                "similarity": None if self.similarity is None else round(self.similarity, 3), "unused": self.unused}

    def sentence(self) -> str:
        """One line for people: 'read as angry (very) by meaning (nearest "livid")'."""
        return reading_sentence(self.summary())


_encoder_lock = threading.Lock()
_encoder_state: dict = {}


def _references() -> tuple[object, np.ndarray]:
    """The sentence encoder (loaded once) and the references' embeddings."""
    with _encoder_lock:
        if "encoder" not in _encoder_state:
            from ..synthesis.text_encoder import SentenceEncoder

            encoder = SentenceEncoder()
            _encoder_state["encoder"] = encoder
            _encoder_state["bank"] = encoder.encode([f"A person who is {d}." for d, _, _ in REFERENCES])
        return _encoder_state["encoder"], _encoder_state["bank"]


def unused_words(text: str) -> list[str]:
    """Content words of `text` that no grammar pattern reads."""
    lowered = " ".join(text.lower().split())
    covered = np.zeros(len(lowered), bool)
    for pattern in _USED_PATTERNS:
        for match in re.finditer(rf"\b(?:{pattern})\b", lowered):
            covered[match.start():match.end()] = True
    words = []
    for match in re.finditer(r"[a-z][a-z'-]*", lowered):
        if not covered[match.start():match.end()].any() and match.group(0) not in _NOT_CONTENT:
            words.append(match.group(0))
    return list(dict.fromkeys(words))


def read_instruction(text: str, *, by_meaning: bool = True) -> Reading:
    """The reading of one instruction. Where the grammar finds an emotion, or every word is the grammar's,
    its reading stands; otherwise the text is read by meaning (`by_meaning=False`: the grammar alone)."""
    controls = parse_instruction(text)
    unused = unused_words(text)
    understood = bool(controls.emotion != "neutral" or controls.actions or controls.motion)
    grammar = Reading(text, controls, text, "grammar" if understood or not unused else "nothing", unused=unused)
    if not unused or not by_meaning or controls.emotion != "neutral":
        return grammar
    encoder, bank = _references()
    similarities = bank @ encoder.encode([text])[0]
    best = int(np.argmax(similarities))
    description, emotion, intensity = REFERENCES[best]
    others = max(sim for sim, (_, other, _) in zip(similarities, REFERENCES) if other != emotion)
    if similarities[best] < MIN_SIMILARITY or similarities[best] - others < MIN_MARGIN:
        return grammar
    read = controls_for_emotion(emotion, _stated_intensity(text) or intensity)
    read.actions = {**read.actions, **controls.actions}  # what the grammar read is kept as written
    read.motion, read.jaw_scale, read.energy = controls.motion, controls.jaw_scale, controls.energy
    return Reading(text, read, format_instruction(read), "meaning", description, float(similarities[best]), [])


def _stated_intensity(text: str) -> int | None:
    """The strongest intensity word in the text (very → 3, fairly → 2, slightly → 1), if any."""
    lowered = text.lower()
    found = [level for level, pattern in _INTENSITY_CUES.items() if re.search(rf"\b(?:{pattern})\b", lowered)]
    return max(found) if found else None
