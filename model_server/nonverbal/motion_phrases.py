"""Head and gaze phrases where the speech calls for them, added to what any agent wrote (the learned
agent, the rules, an endpoint): the agents write the face; these rules read the same speech for the
head and the eyes, so every agent's instruction names them, and the animator can edit them like the rest.

- an aroused segment (speech_arousal over 1, the baseline agent's measure): "nods … often";
- speech that starts after a pause of a second or more within the clip (thinking): "gaze … averted";
- a low, quiet segment (arousal under -1): "gaze … lowered".
"""

from __future__ import annotations

from ..agent.baseline import speech_arousal
from ..agent.grammar import with_motion_phrases
from ..audio.types import SpeechAnalysis, SpeechSegment
from .accents import find_phrases

THINKING_PAUSE_S = 1.0


def motion_for_segment(segment: SpeechSegment, pause_before: float) -> dict[str, float]:
    """The motion strengths (the grammar's MOTION_KEYS) this stretch of speech calls for."""
    arousal = speech_arousal(segment)
    motion = {}
    if arousal > 1.0:
        motion["nodding"] = round(min(1.0, 0.25 + 0.3 * (arousal - 1.0)), 2)
    if pause_before >= THINKING_PAUSE_S:
        motion["gaze_away"] = 0.45
    if arousal < -1.0:
        motion["gaze_down"] = round(min(1.0, 0.25 + 0.3 * (-arousal - 1.0)), 2)
    return motion


def add_motion_phrases(analysis: SpeechAnalysis, segments: list[dict]) -> list[dict]:
    """The agent's segments with the head and gaze phrases each one's speech calls for."""
    speech = analysis.segments or []
    phrases = find_phrases(analysis.alignment.phones)
    out = []
    for index, segment in enumerate(segments):
        described = min(speech, key=lambda s: abs(s.start - segment["start"]), default=None)
        if described is None:
            out.append(segment)
            continue
        first = next((p for p in phrases if segment["start"] <= p.start < segment["end"]), None)
        pause = first.pause_before if first is not None and index > 0 else 0.0
        motion = motion_for_segment(described, pause)
        out.append(dict(segment, instruction=with_motion_phrases(segment["instruction"], motion)))
    return out
