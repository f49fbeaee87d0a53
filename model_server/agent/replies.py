"""What an agent that writes one reply at a time (a language model, a chat endpoint) writes for a clip,
and how its replies become the clip's instructions.

It writes one reply per speech segment, then one for the whole clip where there are several (a single
segment is the whole clip). Before each reply it calls `on_reply(done, total)`: the pipeline reports
progress there and stops a cancelled job between replies.
"""

from __future__ import annotations

from typing import Callable, Iterator, Sequence, TypeVar

from ..audio.types import SpeechAnalysis, SpeechSegment
from .grammar import controls_for_emotion, format_instruction

ReplyCallback = Callable[[int, int], None]  # (replies written, replies in all); may raise JobCancelled
Item = TypeVar("Item")


def nothing_spoken(analysis: SpeechAnalysis) -> tuple[str, list[dict]]:
    """A neutral instruction over the whole clip: no question worth asking of a clip without speech."""
    neutral = format_instruction(controls_for_emotion("neutral", 0))
    return neutral, [{"start": 0.0, "end": analysis.audio.duration, "instruction": neutral}]


def reply_targets(analysis: SpeechAnalysis, whole: SpeechSegment) -> list[SpeechSegment]:
    """Each segment, then the whole clip where there are several."""
    return list(analysis.segments) + ([whole] if len(analysis.segments) > 1 else [])


def reported(items: Sequence[Item], on_reply: ReplyCallback | None) -> Iterator[Item]:
    """The items in order, `on_reply(index, len(items))` called before each is handed out."""
    for index, item in enumerate(items):
        if on_reply is not None:
            on_reply(index, len(items))
        yield item


def clip_instructions(analysis: SpeechAnalysis, written: list[str]) -> tuple[str, list[dict]]:
    """The whole clip's instruction and one per segment, from instructions written for reply_targets."""
    segments = [{"start": round(s.start, 3), "end": round(s.end, 3), "instruction": text}
                for s, text in zip(analysis.segments, written)]
    return written[-1], segments
