"""Split speech into segments at pauses: the unit that gets its own instruction."""

from __future__ import annotations

import numpy as np

from .types import Alignment, Prosody, SpeechSegment


def split_segments(alignment: Alignment, prosody: Prosody, *, min_pause: float = 0.25,
                   max_segment: float = 12.0) -> list[SpeechSegment]:
    """Segments that tile the clip: each pause ≥ min_pause is a boundary (at its middle)."""
    phones = alignment.phones
    if not phones:
        return []
    duration = phones[-1].end
    speech = [(p.start, p.end) for p in phones if p.phone != "SIL"]
    if not speech:
        return [_describe(0.0, duration, 0.0, alignment, prosody)]

    # Runs of speech separated by long-enough pauses.
    runs: list[list[float]] = [[speech[0][0], speech[0][1]]]
    for start, end in speech[1:]:
        if start - runs[-1][1] >= min_pause or end - runs[-1][0] > max_segment:
            runs.append([start, end])
        else:
            runs[-1][1] = end
    bounds = [0.0] + [(a[1] + b[0]) / 2 for a, b in zip(runs, runs[1:])] + [duration]
    pauses = [b[0] - a[1] for a, b in zip(runs, runs[1:])] + [duration - runs[-1][1]]
    return [_describe(bounds[i], bounds[i + 1], pauses[i], alignment, prosody) for i in range(len(runs))]


def _describe(start: float, end: float, pause_after: float, alignment: Alignment, prosody: Prosody) -> SpeechSegment:
    spoken = [p for p in alignment.phones if p.phone != "SIL" and start <= (p.start + p.end) / 2 < end]
    speaking_time = sum(p.end - p.start for p in spoken)
    frames = slice(int(np.floor(start * prosody.fps)), int(np.ceil(end * prosody.fps)) + 1)
    f0 = prosody.f0[frames]
    voiced = f0[f0 > 0]
    loud = prosody.loudness[frames][prosody.voicing[frames] > 0.5]
    if len(voiced) >= 3:
        low, high = np.percentile(voiced, [10, 90])
        f0_range = float(12 * np.log2(high / low))
    else:
        f0_range = 0.0
    words = [w.word for w in alignment.words if start <= (w.start + w.end) / 2 < end]
    return SpeechSegment(
        start=float(start), end=float(end), text=" ".join(words),
        speaking_rate=len(spoken) / speaking_time if speaking_time > 0 else 0.0,
        mean_f0=float(voiced.mean()) if len(voiced) else 0.0,
        f0_range=f0_range,
        mean_loudness=float(loud.mean()) if len(loud) else float(prosody.loudness[frames].mean()),
        pause_after=float(pause_after),
    )
