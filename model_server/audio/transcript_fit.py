"""Does the dialogue text fit the speech? Forced alignment places any words somewhere, even another
line's text or a file name typed by mistake: it then squeezes them into part of the speech and calls the
rest silence, and the lips would move to words nobody says. The share of the clip's speech that falls
inside the aligned words tells the two apart: the right text covers nearly all of it. Loud non-speech
(music, noise) also falls outside the words: alignment.py then asks the recogniser, and keeps the text
when it hears at least MIN_WORDS_HEARD of its words.

`python -m model_server.eval.evaluate_transcript_fit` measures it on the 608 real recordings. The own text
falls below MIN_COVERAGE on 1, rightly: Asterisk's listed text for spy-iax2 is 'IAX (note: does not say
"2")', and the note is not said (0.55). Another line's text, which alignment alone accepted on 323, still
animates 76 (30 of them as many words as the own text).
"""

from __future__ import annotations

import numpy as np

from .prosody import normalize_loudness
from .types import SAMPLE_RATE, Audio, Word

BLOCK_SECONDS = 0.01  # loudness of each 10 ms block: no overlapping windows, so an hour costs little memory
SMOOTH_BLOCKS = 5  # ... averaged over 50 ms, so a plosive's silent closure inside a word stays speech
SPEECH_LEVEL = 0.5  # of the way from the clip's noise floor to its loud speech (normalize_loudness)
MIN_COVERAGE = 0.6  # below it the text is taken not to be what is said
MIN_WORDS_HEARD = 0.5  # share of the text's words the recogniser must hear for the text to be timed by it


def speech_coverage(audio: Audio, words: list[Word]) -> float:
    """Share (0..1) of the clip's loud blocks that lie inside an aligned word; 1.0 when nothing is loud."""
    block = int(BLOCK_SECONDS * SAMPLE_RATE)
    count = len(audio.samples) // block
    blocks = audio.samples[: count * block].reshape(count, block)
    power = np.einsum("ij,ij->i", blocks, blocks, dtype=np.float64) / block
    power = np.convolve(power, np.full(SMOOTH_BLOCKS, 1 / SMOOTH_BLOCKS), mode="same")
    loud = normalize_loudness(10 * np.log10(np.maximum(power, 1e-12))) > SPEECH_LEVEL
    if not loud.any():
        return 1.0
    times = (np.arange(count) + 0.5) * BLOCK_SECONDS
    inside = np.zeros(count, dtype=bool)
    for word in words:
        inside[np.searchsorted(times, word.start):np.searchsorted(times, word.end)] = True
    return float((loud & inside).sum() / loud.sum())


def unused_text_note(transcript: str | None, result: dict) -> str:
    """What to tell the user when the dialogue text given was not used (a pipeline result whose words are
    the ones heard); "" when it was used or none was given."""
    if not (transcript and transcript.strip()) or result.get("transcript_source") != "recognized":
        return ""
    return ("the dialogue text does not fit this audio (it could not be aligned, or its words cover too little "
            f"of the speech); animated from the words heard instead: \"{result.get('transcript', '')}\"")
