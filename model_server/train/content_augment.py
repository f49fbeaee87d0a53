"""Training-time changes to the content features that bring synthetic speech closer to human speech.

espeak-ng's consonants are quiet next to its vowels; a person's nasals (/m n/) are nearly as loud as
the vowels around them, and the burst of a /p b/ is louder still. A model that learned "loud means
open" on espeak therefore keeps the lips apart through a human /m/. Raising the consonants' loudness
towards the nearby vowels' level in part of the batch teaches it to close the lips on the phone,
whatever the loudness says.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter1d

from ..synthesis.content_features import LOUDNESS_DELTA_SCALE, PHONE_INDEX, PHONES, PROSODY_FEATURES

VOWELS = ("AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW")
CONSONANT_COLUMNS = [PHONE_INDEX[p] for p in PHONES if p != "SIL" and p not in VOWELS]
LOUDNESS = len(PHONES) + PROSODY_FEATURES.index("loudness")
LOUDNESS_DELTA = len(PHONES) + PROSODY_FEATURES.index("loudness_delta")
NEIGHBOURHOOD_FRAMES = 13  # ±6 frames at 25 fps: the vowels on either side of a consonant
AUGMENTED_SHARE = 0.5  # half of the clips keep espeak's own loudness
GAIN_RANGE = (0.6, 1.0)  # raised consonants reach this share of the neighbouring vowels' loudness


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
