"""Training-time changes to the content features that bring synthetic speech closer to human speech.

espeak-ng's consonants are quiet next to its vowels; a person's nasals (/m n/) are nearly as loud as
the vowels around them, and the burst of a /p b/ is louder still. A model that learned "loud means
open" on espeak therefore keeps the lips apart through a human /m/. Raising the consonants' loudness
towards the nearby vowels' level in part of the batch teaches it to close the lips on the phone,
whatever the loudness says.

espeak-ng's clips start and end on speech, while a person's recording (and any dialogue track) has
pauses: stretches of the noise floor in which the face rests. A model that never saw one keeps the
lips a little apart through them and through the held consonants that border them. Padding clips
with silence, the motion resting in the clip's style, shows it pauses.

espeak-ng's /p b m/ are also brief (two or three frames), while people hold a nasal for a quarter of
a second or more ("mm", "em", the /m/ before a pause). Lengthening some bilabial holds, in the speech
and in the motion together, shows the model lips that stay closed for as long as the phone lasts.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter1d

from ..agent.grammar import StyleControls
from ..arkit import ARKIT_INDEX
from ..audio.types import Phone
from ..synthesis.coarticulation import blend_visemes
from ..synthesis.content_features import (LOUDNESS_DELTA_SCALE, NUM_CONTENT_FEATURES, PHONE_INDEX, PHONES,
                                          PROSODY_FEATURES)
from ..synthesis.metrics import lip_aperture
from ..synthesis.style_layer import style_tracks_for_controls

VOWELS = ("AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW")
CONSONANT_COLUMNS = [PHONE_INDEX[p] for p in PHONES if p != "SIL" and p not in VOWELS]
LOUDNESS = len(PHONES) + PROSODY_FEATURES.index("loudness")
LOUDNESS_DELTA = len(PHONES) + PROSODY_FEATURES.index("loudness_delta")
BILABIAL_COLUMNS = [PHONE_INDEX[p] for p in ("B", "M", "P")]
NEIGHBOURHOOD_FRAMES = 21  # ±10 frames at 25 fps: the vowels on either side of a (lengthened) consonant
AUGMENTED_SHARE = 0.5  # half of the clips keep espeak's own loudness
GAIN_RANGE = (0.6, 1.2)  # raised consonants reach this share of the neighbouring vowels' loudness
HOLD_SHARE = 0.7  # of clips whose lips close at a /p b m/ in both styles: one such closure is lengthened
HOLD_EXTRA_FRAMES = (2, 9)  # frames added to the closure: 80..320 ms longer
CLOSED_LIPS = 0.05  # lip aperture of a closed frame (as the training loss counts it)
PAUSE_SHARE = 0.5  # of clips get a pause before the speech, and independently after it
PAUSE_FRAMES = (5, 41)  # 0.2..1.6 s of silence
NOISE_FLOOR_LOUDNESS = 0.06  # normalised loudness is 0 at a clip's noise floor; a human pause flickers up to about this


def raise_consonant_loudness(content: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(B, T, F) content features → a copy in which some clips' consonants are about as loud as their vowels."""
    out = content.copy()
    for clip in out:
        if rng.random() >= AUGMENTED_SHARE:
            continue
        loud = clip[:, LOUDNESS]
        neighbours = maximum_filter1d(loud, NEIGHBOURHOOD_FRAMES, mode="nearest")
        consonant = clip[:, CONSONANT_COLUMNS].sum(axis=1)
        target = rng.uniform(*GAIN_RANGE) * neighbours
        raised = loud + consonant * np.maximum(target - loud, 0.0)
        clip[:, LOUDNESS] = raised
        clip[:, LOUDNESS_DELTA] = np.diff(raised, prepend=raised[:1]) * LOUDNESS_DELTA_SCALE
    return out


def lengthen_bilabial_hold(content: np.ndarray, motions: list[np.ndarray],
                           rng: np.random.Generator) -> tuple[np.ndarray, list[np.ndarray]]:
    """One clip's (T, F) content and its (T, 52) motions → copies in which, for HOLD_SHARE of clips, one
    closed /p b m/ frame is repeated HOLD_EXTRA_FRAMES times in all of them (the clip grows by as much).

    The repeated frame is a frame of the phone where every motion has the lips closed, so the longer
    hold is what the articulation model would have drawn for a longer phone.
    """
    if rng.random() >= HOLD_SHARE:
        return content, motions
    bilabial = content[:, BILABIAL_COLUMNS].sum(axis=1) > 0.5
    closed = np.all([lip_aperture(m) < CLOSED_LIPS for m in motions], axis=0)
    candidates = np.flatnonzero(bilabial & closed)
    if len(candidates) == 0:
        return content, motions
    frame = int(rng.choice(candidates))
    repeat = np.ones(len(content), dtype=int)
    repeat[frame] += int(rng.integers(*HOLD_EXTRA_FRAMES))
    longer = np.repeat(content, repeat, axis=0)
    loud = longer[:, LOUDNESS]
    longer[:, LOUDNESS_DELTA] = np.diff(loud, prepend=loud[:1]) * LOUDNESS_DELTA_SCALE  # 0 along the hold
    return longer, [np.repeat(m, repeat, axis=0) for m in motions]


def resting_face(controls: StyleControls, fps: float) -> np.ndarray:
    """(52,) the articulation model's face in silence for a style: the expression layer on a closed mouth."""
    frames = 3
    segment = [{"start": 0.0, "end": frames / fps}]
    style, _, _ = style_tracks_for_controls([controls], segment, frames, fps)
    mouth, _ = blend_visemes([Phone("SIL", 0.0, frames / fps)], frames, fps)
    face = np.clip(mouth[1] + style[1], 0.0, 1.0).astype(np.float32)
    face[ARKIT_INDEX["jawOpen"]] = 0.0  # silence's jaw target
    return face


def silence_features(frames: int, rng: np.random.Generator) -> np.ndarray:
    """(frames, F) content features of a pause: silence phone, loudness flickering at the noise floor, unvoiced."""
    out = np.zeros((frames, NUM_CONTENT_FEATURES), np.float32)
    out[:, PHONE_INDEX["SIL"]] = 1.0
    out[:, LOUDNESS] = rng.uniform(0.0, NOISE_FLOOR_LOUDNESS, frames)
    return out


def add_pauses(content: np.ndarray, motions: list[np.ndarray], rests: list[np.ndarray],
               rng: np.random.Generator) -> tuple[np.ndarray, list[np.ndarray]]:
    """One clip's (T, F) content and (T, 52) motions → copies with a pause of PAUSE_FRAMES frames before
    and/or after the speech (each with PAUSE_SHARE), in which each motion holds its resting face."""
    before = int(rng.integers(*PAUSE_FRAMES)) if rng.random() < PAUSE_SHARE else 0
    after = int(rng.integers(*PAUSE_FRAMES)) if rng.random() < PAUSE_SHARE else 0
    if before == after == 0:
        return content, motions
    padded = np.concatenate([silence_features(before, rng), content, silence_features(after, rng)])
    loud = padded[:, LOUDNESS]
    padded[:, LOUDNESS_DELTA] = np.diff(loud, prepend=loud[:1]) * LOUDNESS_DELTA_SCALE
    return padded, [np.concatenate([np.repeat(rest[None], before, 0), motion, np.repeat(rest[None], after, 0)])
                    for motion, rest in zip(motions, rests)]
