"""Where the voice stresses and where it pauses: pitch accents, loudness onsets, phrases and long pauses.

An accent is a stressed syllable that stands out: its vowel louder or higher than the speaker's usual,
or a sharp rise of loudness. Phrases are runs of speech between pauses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..audio.types import Phone, Prosody

VOWELS = frozenset("AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW".split())
PHRASE_PAUSE_S = 0.25  # the segmenter's own pause
LONG_PAUSE_S = 0.6  # a pause long enough to think in: the head settles, the eyes may wander
MIN_ACCENT_GAP_S = 0.25


@dataclass(frozen=True)
class Accent:
    time: float  # seconds: the stressed vowel's loudest frame
    strength: float  # 0..1


@dataclass(frozen=True)
class Phrase:
    start: float
    end: float
    pause_before: float  # seconds of silence before it (the clip's start counts as a long pause)


def _semitones(f0: np.ndarray) -> np.ndarray:
    voiced = f0 > 0
    out = np.zeros_like(f0)
    if voiced.sum() >= 3:
        out[voiced] = 12 * np.log2(f0[voiced] / np.median(f0[voiced]))
    return out


def _zscore(values: np.ndarray) -> np.ndarray:
    spread = values.std()
    return (values - values.mean()) / spread if spread > 1e-9 else np.zeros_like(values)


def find_accents(phones: list[Phone], prosody: Prosody) -> list[Accent]:
    """Stressed syllables that stand out in loudness, pitch or length, strongest 1."""
    fps, frames = prosody.fps, len(prosody.loudness)
    pitch = _semitones(prosody.f0)
    vowels = [p for p in phones if p.phone in VOWELS and p.end > p.start]
    if len(vowels) < 2:
        return []
    peaks, loud, high, long = [], [], [], []
    for vowel in vowels:
        first = min(frames - 1, int(np.floor(vowel.start * fps)))
        last = min(frames, max(first + 1, int(np.ceil(vowel.end * fps))))
        window = slice(first, last)
        peaks.append((first + int(np.argmax(prosody.loudness[window]))) / fps)
        loud.append(prosody.loudness[window].max())
        high.append(pitch[window].max())
        long.append(vowel.end - vowel.start)
    prominence = _zscore(np.array(loud)) + _zscore(np.array(high)) + 0.5 * _zscore(np.array(long))
    # A loudness onset: the vowel is far louder than the 150 ms before it.
    for i, vowel in enumerate(vowels):
        before = prosody.loudness[max(0, int((vowel.start - 0.15) * fps)):max(1, int(vowel.start * fps))]
        if before.size and loud[i] - before.min() > 18.0:
            prominence[i] += 0.5
    threshold = np.quantile(prominence, 0.6)
    accents: list[Accent] = []
    for time, score in sorted(zip(peaks, prominence), key=lambda pair: -pair[1]):
        if score < threshold or any(abs(time - a.time) < MIN_ACCENT_GAP_S for a in accents):
            continue
        accents.append(Accent(time, float(np.clip((score - threshold) / 2.0 + 0.4, 0.2, 1.0))))
    return sorted(accents, key=lambda a: a.time)


def find_phrases(phones: list[Phone]) -> list[Phrase]:
    """Runs of speech between pauses of PHRASE_PAUSE_S or more, each with the pause before it."""
    runs: list[list[float]] = []
    for start, end in ((p.start, p.end) for p in phones if p.phone != "SIL"):
        if runs and start - runs[-1][1] < PHRASE_PAUSE_S:
            runs[-1][1] = max(runs[-1][1], end)
        else:
            runs.append([start, end])
    phrases, last_end = [], None
    for start, end in runs:
        pause = max(start, LONG_PAUSE_S) if last_end is None else start - last_end
        phrases.append(Phrase(start, end, pause))
        last_end = end
    return phrases


def pause_gate(phrases: list[Phrase], num_frames: int, fps: float, level: float) -> np.ndarray:
    """(T,) 1 while speaking, easing down to `level` within a pause longer than LONG_PAUSE_S and back up
    just before speech resumes: the settle after a phrase and the stillness of a long pause."""
    times = np.arange(num_frames) / fps
    gate = np.ones(num_frames)
    edges = [(0.0, phrases[0].start)] if phrases else [(0.0, num_frames / fps)]
    edges += [(a.end, b.start) for a, b in zip(phrases, phrases[1:])]
    edges += [(phrases[-1].end, num_frames / fps + 1.0)] if phrases else []
    for start, end in edges:
        if end - start < LONG_PAUSE_S:
            continue
        settle = np.clip((times - start) / 0.5, 0, 1)  # eases down over half a second after the phrase
        resume = np.clip((end - times) / 0.25, 0, 1)  # and back up a quarter second before speech
        inside = (times >= start) & (times < end)
        depth = np.minimum(settle, resume)
        gate[inside] = 1.0 - (1.0 - level) * (depth[inside] ** 2 * (3 - 2 * depth[inside]))
    return gate
