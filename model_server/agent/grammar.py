"""The paper's instruction grammar, and a tolerant parser from free text to style controls.

Canonical form (what the agents write):
    "A fairly angry person speaks with brow quite lowered, lips fairly pressed, and jaw opening mildly wide."
Free edits ("speaks angrily, brows pulled down, lips pressed between words") still parse: the
parser looks for emotion words, facial-action phrases and degree words anywhere in the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

EMOTIONS = ("neutral", "angry", "disgusted", "contempt", "fearful", "happy", "sad", "surprised")
EMOTION_ADJECTIVES = {
    "neutral": "neutral", "angry": "angry", "disgusted": "disgusted", "contempt": "contemptuous",
    "fearful": "fearful", "happy": "happy", "sad": "sad", "surprised": "surprised",
}
INTENSITY_ADVERBS = {1: "slightly", 2: "fairly", 3: "very"}

# Facial actions in the order they are written: (key, body part, participle).
ACTIONS = (
    ("brow_lowered", "brow", "lowered"),
    ("inner_brow_raised", "inner brow", "raised"),
    ("outer_brow_raised", "outer brow", "raised"),
    ("cheek_raised", "cheeks", "raised"),
    ("eyes_widened", "eyes", "widened"),
    ("eyes_narrowed", "eyes", "narrowed"),
    ("nose_wrinkled", "nose", "wrinkled"),
    ("upper_lip_raised", "upper lip", "raised"),
    ("lip_corners_up", "lip corners", "pulled up"),
    ("lip_corners_down", "lip corners", "pulled down"),
    ("lip_stretched", "lips", "stretched"),
    ("lip_pressed", "lips", "pressed"),
    ("lip_puckered", "lips", "puckered"),
)
ACTION_KEYS = tuple(key for key, _, _ in ACTIONS)

# Head, gaze and intensity-over-time phrases: (key, part, verb), written "<part> <degree> <verb>" ("nods fairly
# often", "gaze mildly averted"), and "head held still" at full strength. They steer the head, the eyes and
# the expression's course over a segment (model_server/nonverbal/), never the face's shape, so they are kept
# apart from ACTIONS: the style vector that the learned models read does not change.
MOTIONS = (
    ("nodding", "nods", "often"),
    ("head_still", "head", "still"),
    ("head_tilted", "head", "tilted"),
    ("gaze_down", "gaze", "lowered"),
    ("gaze_away", "gaze", "averted"),
    ("gaze_steady", "gaze", "steady"),
    ("rising", "intensity", "rising"),
    ("falling", "intensity", "falling"),
)
MOTION_KEYS = tuple(key for key, _, _ in MOTIONS)
HEAD_HELD_STILL = "head held still"

# Degree words, weakest first, with the strength each stands for.
DEGREES = (("slightly", 0.25), ("mildly", 0.45), ("fairly", 0.65), ("quite", 0.85), ("strongly", 1.0))
_DEGREE_SYNONYMS = {
    "a bit": 0.25, "a little": 0.25, "barely": 0.15, "subtly": 0.25, "lightly": 0.3, "somewhat": 0.45,
    "moderately": 0.55, "clearly": 0.7, "rather": 0.65, "very": 0.9, "really": 0.9, "sharply": 0.9,
    "deeply": 0.9, "heavily": 0.9, "extremely": 1.0, "tightly": 0.85, "sharp": 0.85, "strong": 0.9,
}

# Facial actions per emotion (FACS-style prototypes, as in MEAD's emotion categories).
EMOTION_PROFILES: dict[str, dict[str, float]] = {
    "neutral": {},
    "angry": {"brow_lowered": 0.9, "eyes_narrowed": 0.6, "lip_pressed": 0.6, "upper_lip_raised": 0.2},
    "disgusted": {"nose_wrinkled": 0.8, "upper_lip_raised": 0.7, "brow_lowered": 0.5, "lip_corners_down": 0.3},
    "contempt": {"lip_corners_up": 0.35, "lip_pressed": 0.3, "eyes_narrowed": 0.3},
    "fearful": {"inner_brow_raised": 0.8, "outer_brow_raised": 0.5, "brow_lowered": 0.3,
                "eyes_widened": 0.8, "lip_stretched": 0.7},
    "happy": {"cheek_raised": 0.8, "lip_corners_up": 0.9, "eyes_narrowed": 0.2},
    "sad": {"inner_brow_raised": 0.85, "brow_lowered": 0.3, "lip_corners_down": 0.75, "eyes_narrowed": 0.2},
    "surprised": {"inner_brow_raised": 0.9, "outer_brow_raised": 0.9, "eyes_widened": 0.9},
}
_INTENSITY_SCALE = {0: 0.0, 1: 0.45, 2: 0.75, 3: 1.0}
EMOTION_ENERGY = {"angry": 1.3, "happy": 1.15, "surprised": 1.2, "fearful": 1.05, "sad": 0.75,
                  "disgusted": 0.95, "contempt": 0.9, "neutral": 1.0}


@dataclass
class StyleControls:
    """What an instruction asks of the face. The style layer of synthesis reads these."""

    emotion: str = "neutral"
    intensity: int = 0  # 0 (none) .. 3 (very)
    actions: dict[str, float] = field(default_factory=dict)  # ACTION_KEYS → strength 0..1
    jaw_scale: float = 1.0  # < 1 small jaw opening, > 1 wide
    energy: float = 1.0  # < 1 subdued, > 1 energetic
    motion: dict[str, float] = field(default_factory=dict)  # MOTION_KEYS → strength 0..1 (head, gaze, course)

    def vector(self) -> list[float]:
        """Fixed-order numbers, so segment styles can be blended frame by frame (the face only: `motion`
        is read by the nonverbal layer)."""
        return [self.actions.get(k, 0.0) for k in ACTION_KEYS] + [self.jaw_scale, self.energy]


def controls_for_emotion(emotion: str, intensity: int) -> StyleControls:
    """The prototype face of an emotion at an intensity (what an agent writes by default)."""
    if emotion not in EMOTIONS:
        raise ValueError(f"unknown emotion {emotion!r}; one of {', '.join(EMOTIONS)}")
    intensity = 0 if emotion == "neutral" else max(1, min(3, intensity))
    scale = _INTENSITY_SCALE[intensity]
    actions = {k: round(v * scale, 2) for k, v in EMOTION_PROFILES[emotion].items() if v * scale >= 0.1}
    energy = 1.0 + (EMOTION_ENERGY[emotion] - 1.0) * scale
    jaw = 1.0 + (energy - 1.0) * 0.8
    return StyleControls(emotion, intensity, actions, round(jaw, 2), round(energy, 2))


def degree_word(strength: float) -> str:
    return min(DEGREES, key=lambda d: abs(d[1] - strength))[0]


def format_instruction(controls: StyleControls) -> str:
    """Canonical sentence in the paper's grammar."""
    if controls.emotion == "neutral" or controls.intensity == 0:
        person = "A neutral person"
    else:
        adverb = INTENSITY_ADVERBS[controls.intensity]
        person = f"A {adverb} {EMOTION_ADJECTIVES[controls.emotion]} person"
    phrases = [f"{part} {degree_word(controls.actions[key])} {verb}"
               for key, part, verb in ACTIONS if controls.actions.get(key, 0.0) >= 0.1]
    if abs(controls.jaw_scale - 1.0) >= 0.1:
        size = "wide" if controls.jaw_scale > 1 else "small"
        phrases.append(f"jaw opening {degree_word(min(1.0, abs(controls.jaw_scale - 1.0) * 2))} {size}")
    if abs(controls.energy - 1.0) >= 0.1:
        level = "high" if controls.energy > 1 else "low"
        phrases.append(f"speaking energy {degree_word(min(1.0, abs(controls.energy - 1.0) * 2))} {level}")
    phrases += motion_phrases(controls.motion)
    return f"{person} speaks with {_join_phrases(phrases or ['relaxed face'])}."


def motion_phrases(motion: dict[str, float]) -> list[str]:
    """The canonical phrases of head, gaze and course controls, in MOTIONS' order."""
    phrases = []
    for key, part, verb in MOTIONS:
        strength = motion.get(key, 0.0)
        if strength >= 0.1:
            phrases.append(HEAD_HELD_STILL if key == "head_still" and strength >= 0.95
                           else f"{part} {degree_word(strength)} {verb}")
    return phrases


_DEGREE_WORDS = "|".join([d for d, _ in DEGREES] + sorted(_DEGREE_SYNONYMS, key=len, reverse=True))
_DEGREE = rf"(?:(?P<degree>{_DEGREE_WORDS})\s+)?"
_CANONICAL_PHRASE = re.compile(
    rf"^(?P<part>{'|'.join(sorted({re.escape(p) for _, p, _ in ACTIONS + MOTIONS} | {'jaw opening', 'speaking energy'}, key=len, reverse=True))})"
    rf"\s+(?P<degree>{'|'.join(d for d, _ in DEGREES)})\s+(?P<verb>[a-z ]+)$")
_CANONICAL = re.compile(
    rf"^An? (?:(?P<adverb>{'|'.join(INTENSITY_ADVERBS.values())}) )?(?P<adjective>{'|'.join(EMOTION_ADJECTIVES.values())}) "
    r"person speaks with (?P<body>.+)\.$")

# Free-text cues. Each pattern may be preceded or followed by a degree word.
_EMOTION_WORDS = {
    "angry": r"angr(?:y|ily)|anger|furious|mad|irritated|annoyed|rage",
    "happy": r"happ(?:y|ily)|joy(?:ful)?|cheerful(?:ly)?|delighted|glad|excited|elated",
    "sad": r"sad(?:ly)?|disappointed|sorrowful|upset|gloomy|grie(?:f|ving)|melanchol(?:y|ic)|depressed",
    "surprised": r"surprised?|astonished|amazed|shocked",
    "fearful": r"fear(?:ful(?:ly)?)?|afraid|scared|frightened|anxious(?:ly)?|nervous(?:ly)?|terrified",
    "disgusted": r"disgust(?:ed)?|revolted|grossed out",
    "contempt": r"contempt(?:uous(?:ly)?)?|scornful(?:ly)?|disdain(?:ful)?|smug(?:ly)?",
    "neutral": r"neutral|calm(?:ly)?|flat|matter-of-fact",
}
_ACTION_CUES = {
    "brow_lowered": r"(?:brows?|eyebrows?) (?:\w+ )?(?:lowered|pulled down|drawn down|furrowed|knitted)|(?:lowered|furrowed|knitted) (?:brows?|eyebrows?)|frown(?:s|ing)?",
    "inner_brow_raised": r"inner (?:brows?|eyebrows?) (?:\w+ )?(?:raised|lifted|up)|(?:raised|lifted) inner (?:brows?|eyebrows?)",
    "outer_brow_raised": r"(?:outer )?(?:brows?|eyebrows?) (?:\w+ )?(?:raised|lifted|up)|(?:raised|lifted) (?:outer )?(?:brows?|eyebrows?)",
    "cheek_raised": r"cheeks? (?:\w+ )?(?:raised|lifted)|(?:raised|lifted) cheeks?",
    "eyes_widened": r"eyes? (?:\w+ )?(?:widened|wide(?: open)?)|wide[- ]eyed|(?:widened|wide) eyes",
    "eyes_narrowed": r"eyes? (?:\w+ )?(?:narrowed|squinted|squinting)|(?:narrowed|squinting) eyes|squint(?:s|ing)?",
    "nose_wrinkled": r"nose (?:\w+ )?wrinkled|wrinkled nose|sneer(?:s|ing)?",
    "upper_lip_raised": r"upper lip (?:\w+ )?(?:raised|lifted|curled)|(?:raised|curled) upper lip",
    "lip_corners_up": r"(?:lip|mouth) corners? (?:\w+ )?(?:pulled up|raised|lifted|up)|smil(?:e|es|ing)",
    "lip_corners_down": r"(?:lip|mouth) corners? (?:\w+ )?(?:pulled down|lowered|down|depressed)|downturned (?:mouth|lips?)",
    "lip_stretched": r"lips? (?:\w+ )?stretched|stretched lips?|lips? pulled (?:back|wide)",
    "lip_pressed": r"lips? (?:\w+ )?(?:pressed|tightened|tight)|(?:pressed|tight) lips?|clenched",
    "lip_puckered": r"lips? (?:\w+ )?(?:puckered|pursed|rounded)|(?:pursed|puckered) lips?|pout(?:s|ing)?",
}
_JAW_WIDE = r"(?:wide|large|big|sharp(?: wide)?) jaw|jaw (?:opening )?(?:\w+ )?wide|wide(?:ly)? open(?:ing)?|mouth wide"
_JAW_SMALL = r"(?:small|little|narrow|tight) jaw|jaw (?:opening )?(?:\w+ )?small|mumbl(?:e|es|ing)|barely open"
_ENERGY_HIGH = r"speaking energy (?:\w+ )?high|energetic(?:ally)?|lively|animated|forceful(?:ly)?|emphatic(?:ally)?|loud(?:ly)?"
_ENERGY_LOW = r"speaking energy (?:\w+ )?low|subdued|quiet(?:ly)?|soft(?:ly)?|tired(?:ly)?|weak(?:ly)?|monoton(?:e|ous)"
# Free-text head, gaze and course cues → (motion key, strength when no degree word is near).
_MOTION_CUES = {
    "nodding": (r"nods?(?: \w+)? often|nodding|nods(?: along| a lot)?|(?:nods?|nodding) (?:\w+ )?(?:frequently|constantly)", 0.65),
    "head_still": (r"head (?:\w+ )?(?:held |kept )?(?:still|steady|motionless|unmoving)|(?:still|motionless|unmoving) head|"
                   r"(?:doesn't|does not|never) move (?:his|her|their|the) head", 1.0),
    "head_tilted": (r"head (?:\w+ )?(?:tilted|tilting|cocked)|tilt(?:s|ed|ing)? (?:his|her|their|the) head|(?:tilted|cocked) head", 0.65),
    "gaze_down": (r"looks? (?:\w+ )?down(?:ward)?|looking (?:\w+ )?down(?:ward)?|downcast|eyes (?:\w+ )?(?:lowered|down)|"
                  r"gaze (?:\w+ )?lowered|lowered (?:gaze|eyes)", 0.65),
    "gaze_away": (r"looks? (?:\w+ )?away|looking (?:\w+ )?away|avoid(?:s|ing)? (?:eye contact|(?:his|her|their) eyes)|"
                  r"(?:averted|shifty|darting) (?:gaze|eyes)|gaze (?:\w+ )?averted", 0.65),
    "gaze_steady": (r"steady (?:gaze|eyes)|gaze (?:\w+ )?steady|(?:holds?|holding|keeps?|keeping|with) (?:\w+ )?eye contact|"
                    r"stares?|staring|looks? (?:\w+ )?straight (?:at|ahead)", 0.65),
    "rising": (r"growing (?:more )?\w+|increasingly|more and more|building (?:up)?|getting (?:more )?\w+er\b", 0.65),
    "falling": (r"calming down|cooling (?:down|off)|less and less|fading|softening|settling down|winding down", 0.65),
}
_INTENSITY_CUES = {1: r"slightly|mildly|a bit|a little|somewhat", 2: r"fairly|moderately|rather|quite",
                   3: r"very|extremely|really|intensely|furiously|deeply"}


def _degree_near(text: str, start: int, end: int, default: float) -> float:
    """The degree word inside the match or just before it ("quite lowered", "fairly raised cheeks")."""
    window = text[max(0, start - 24):end]
    found = [(m.start(), m.group(0)) for m in re.finditer(rf"\b(?:{_DEGREE_WORDS})\b", window)]
    if not found:
        return default
    word = found[-1][1]
    return dict(DEGREES).get(word, _DEGREE_SYNONYMS.get(word, default))


def parse_instruction(text: str) -> StyleControls:
    """Instruction text → controls. Never raises: unknown words are ignored, nothing found is neutral."""
    canonical = _parse_canonical(text.strip())
    if canonical is not None:
        return canonical
    lowered = " ".join(text.lower().split())
    emotion, intensity, where = "neutral", 0, len(lowered)
    for name, pattern in _EMOTION_WORDS.items():
        match = re.search(rf"\b(?:{pattern})\b", lowered)
        if match and match.start() < where and name != "neutral":
            emotion, where = name, match.start()
    if emotion != "neutral":
        intensity = 2
        before = lowered[max(0, where - 16):where]
        for level, pattern in _INTENSITY_CUES.items():
            if re.search(rf"\b(?:{pattern})\s*$", before):
                intensity = level

    actions: dict[str, float] = {}
    for key, pattern in _ACTION_CUES.items():
        for match in re.finditer(rf"\b(?:{pattern})\b", lowered):
            if key == "outer_brow_raised" and "inner" in match.group(0):
                continue
            actions[key] = max(actions.get(key, 0.0), _degree_near(lowered, match.start(), match.end(), 0.65))
    if not actions:
        # Only an emotion: the face it implies.
        controls = controls_for_emotion(emotion, intensity)
    else:
        controls = StyleControls(emotion, intensity, actions)
    for key, (pattern, default) in _MOTION_CUES.items():
        match = re.search(rf"\b(?:{pattern})\b", lowered)
        if match:
            controls.motion[key] = _degree_near(lowered, match.start(), match.end(), default)
    for pattern, attribute, sign in ((_JAW_WIDE, "jaw_scale", 1), (_JAW_SMALL, "jaw_scale", -1),
                                     (_ENERGY_HIGH, "energy", 1), (_ENERGY_LOW, "energy", -1)):
        match = re.search(rf"\b(?:{pattern})\b", lowered)
        if match:
            strength = _degree_near(lowered, match.start(), match.end(), 0.65)
            setattr(controls, attribute, round(1.0 + sign * strength / 2, 2))
    return controls


def _parse_canonical(text: str) -> StyleControls | None:
    match = _CANONICAL.match(text)
    if not match:
        return None
    adjective_to_emotion = {adj: emo for emo, adj in EMOTION_ADJECTIVES.items()}
    emotion = adjective_to_emotion[match["adjective"]]
    adverbs = {adv: level for level, adv in INTENSITY_ADVERBS.items()}
    intensity = 0 if emotion == "neutral" else adverbs.get(match["adverb"] or "", 2)
    controls = StyleControls(emotion, intensity, {})
    body = match["body"]
    if body == "relaxed face":
        return controls
    lookup = {(part, verb): key for key, part, verb in ACTIONS}
    motions = {(part, verb): key for key, part, verb in MOTIONS}
    for phrase in re.split(r",\s*(?:and\s+)?|\s+and\s+", body):
        if phrase.strip() == HEAD_HELD_STILL:
            controls.motion["head_still"] = 1.0
            continue
        found = _CANONICAL_PHRASE.match(phrase.strip())
        if not found:
            return None
        strength = dict(DEGREES)[found["degree"]]
        part, verb = found["part"], found["verb"]
        if part == "jaw opening" and verb in ("wide", "small"):
            controls.jaw_scale = round(1.0 + (strength if verb == "wide" else -strength) / 2, 2)
        elif part == "speaking energy" and verb in ("high", "low"):
            controls.energy = round(1.0 + (strength if verb == "high" else -strength) / 2, 2)
        elif (part, verb) in lookup:
            controls.actions[lookup[(part, verb)]] = strength
        elif (part, verb) in motions:
            controls.motion[motions[(part, verb)]] = strength
        else:
            return None
    return controls


def _join_phrases(phrases: list[str]) -> str:
    if len(phrases) == 1:
        return phrases[0]
    return ", ".join(phrases[:-1]) + f"{',' if len(phrases) > 2 else ''} and {phrases[-1]}"


def without_motion_phrases(text: str) -> str:
    """The instruction as the face's synthesis reads it: a canonical instruction less its head, gaze and
    course phrases (the nonverbal layer reads those), its other phrases word for word. Free text is kept."""
    match = _CANONICAL.match(text.strip())
    if not match or _parse_canonical(text.strip()) is None:
        return text
    motions = {(part, verb) for _, part, verb in MOTIONS}
    kept = []
    for phrase in re.split(r",\s*(?:and\s+)?|\s+and\s+", match["body"]):
        found = _CANONICAL_PHRASE.match(phrase.strip())
        if phrase.strip() != HEAD_HELD_STILL and not (found and (found["part"], found["verb"]) in motions):
            kept.append(phrase.strip())
    head = text.strip()[: match.start("body")]
    return f"{head}{_join_phrases(kept or ['relaxed face'])}."


def with_motion_phrases(text: str, motion: dict[str, float]) -> str:
    """A canonical instruction with the phrases of `motion` (MOTION_KEYS → strength) added to its body, those
    it names already kept as they are. Free text is returned unchanged: it is the animator's own words."""
    controls = _parse_canonical(text.strip())
    added = {key: value for key, value in motion.items() if controls is not None and key not in controls.motion}
    if not added:
        return text
    match = _CANONICAL.match(text.strip())
    body = [] if match["body"] == "relaxed face" else [p.strip() for p in re.split(r",\s*(?:and\s+)?|\s+and\s+",
                                                                                 match["body"])]
    return f"{text.strip()[: match.start('body')]}{_join_phrases(body + motion_phrases(added))}."


def is_grammatical(text: str) -> bool:
    """True when the text is a canonical instruction (every phrase in the grammar)."""
    return _parse_canonical(text.strip()) is not None
