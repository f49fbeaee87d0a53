"""The BASELINE instruction agent: hand-written rules over prosody and transcript keywords.

It is not the paper's learned agent (speech → Q-Former → language model); it is the reference that
agent must beat, and the default until it ships. Arousal comes from loudness, pitch range, pitch
level and speaking rate against typical conversational speech; valence from a small lexicon.
"""

from __future__ import annotations

import re

import numpy as np

from ..audio.types import SpeechAnalysis, SpeechSegment
from .grammar import controls_for_emotion, format_instruction

# Typical conversational speech, the zero point of arousal.
TYPICAL_LOUDNESS_DBFS = -24.0
TYPICAL_F0_RANGE_ST = 5.0
TYPICAL_RATE = 11.0  # phones per second
TYPICAL_F0_HZ = 165.0

LEXICON = {
    "happy": "great wonderful won win winning love loved lovely happy glad fantastic amazing awesome yay "
             "beautiful perfect excellent congratulations delighted thrilled celebrate fun laugh",
    "sad": "sorry sad died dead death lost lose miss missed cry crying tears alone funeral unfortunately "
           "gone grief hurt pain disappointed never",
    "angry": "hate angry damn furious stupid idiot stop enough shut liar unacceptable ridiculous how dare",
    "surprised": "what wow really unbelievable incredible oh believe suddenly",
    "fearful": "afraid scared help danger run careful fear terrified hide",
    "disgusted": "disgusting gross yuck awful nasty rotten sick vile",
}
_WORDS = {emotion: set(words.split()) for emotion, words in LEXICON.items()}


class BaselineInstructionAgent:
    name = "baseline-prosody-rules"

    def instruct(self, analysis: SpeechAnalysis, on_reply=None) -> tuple[str, list[dict]]:
        """The whole clip's instruction and one per segment. Rules take microseconds, so `on_reply`
        (replies.py) is accepted and never called."""
        segments = analysis.segments or []
        if not segments:
            duration = analysis.audio.duration
            return self._whole_clip(analysis), [{"start": 0.0, "end": duration, "instruction": self._whole_clip(analysis)}]
        out = [{"start": round(s.start, 3), "end": round(s.end, 3), "instruction": self._instruction(s, s.text)}
               for s in segments]
        return self._whole_clip(analysis), out

    def describe(self) -> dict:
        return {"name": self.name, "kind": "baseline"}

    def _whole_clip(self, analysis: SpeechAnalysis) -> str:
        whole = whole_clip_segment(analysis)
        if whole is None:
            return format_instruction(controls_for_emotion("neutral", 0))
        return self._instruction(whole, whole.text)

    def _instruction(self, segment: SpeechSegment, text: str) -> str:
        arousal = speech_arousal(segment)
        emotion = lexical_emotion(text)
        if emotion is None:
            if arousal > 1.2:
                emotion = "surprised" if segment.f0_range > TYPICAL_F0_RANGE_ST * 1.6 else "angry"
            elif arousal < -1.0:
                emotion = "sad"
            else:
                emotion = "neutral"
        intensity = int(np.clip(round(2 + arousal * 0.8), 1, 3))
        if emotion == "sad":  # low arousal is what makes sadness intense
            intensity = int(np.clip(round(2 - arousal * 0.8), 1, 3))
        return format_instruction(controls_for_emotion(emotion, intensity))


def speech_arousal(segment: SpeechSegment) -> float:
    """Roughly in standard deviations of conversational speech; 0 is typical, ±2 extreme."""
    loud = (segment.mean_loudness - TYPICAL_LOUDNESS_DBFS) / 6.0
    spread = (segment.f0_range - TYPICAL_F0_RANGE_ST) / 3.0
    rate = (segment.speaking_rate - TYPICAL_RATE) / 3.0 if segment.speaking_rate > 0 else 0.0
    pitch = 12 * np.log2(segment.mean_f0 / TYPICAL_F0_HZ) / 6.0 if segment.mean_f0 > 0 else 0.0
    return float(0.45 * loud + 0.3 * spread + 0.3 * rate + 0.25 * pitch)


def lexical_emotion(text: str) -> str | None:
    """The emotion whose words the text uses most (None when no cue word appears)."""
    words = re.findall(r"[a-z']+", text.lower())
    counts = {emotion: sum(w in vocabulary for w in words) for emotion, vocabulary in _WORDS.items()}
    if "!" in text and "?" in text:
        counts["surprised"] += 1
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else None


def whole_clip_segment(analysis: SpeechAnalysis) -> SpeechSegment | None:
    """The clip as one segment: the whole transcript, prosody averaged over the segments by duration."""
    segments = analysis.segments
    if not segments:
        return None
    weights = np.array([s.end - s.start for s in segments])
    mean = lambda attr: float(np.average([getattr(s, attr) for s in segments], weights=weights))  # noqa: E731
    return SpeechSegment(segments[0].start, segments[-1].end, analysis.alignment.transcript,
                         mean("speaking_rate"), mean("mean_f0"), mean("f0_range"), mean("mean_loudness"), 0.0)
