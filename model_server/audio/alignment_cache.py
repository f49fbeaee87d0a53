"""The alignments of the last few clips, so that animating a clip again costs no second alignment.

An animator asks for the instruction, edits it, animates, edits again: every request sends the same
sound and text, and aligning a minute of speech takes seconds, far more than the synthesis. An
alignment depends only on the samples, the text and the language (each clip gets a decoder of its own,
and recognition decodes greedily), so the one found before is the one found again.
"""

from __future__ import annotations

import copy
import hashlib
import threading
from collections import OrderedDict
from typing import Callable

from .types import Alignment, Audio

CLIPS_KEPT = 8  # a scene's few strips; an alignment is small (a minute is about 600 phones)


class AlignmentCache:
    def __init__(self, size: int = CLIPS_KEPT) -> None:
        self.size = size
        self._kept: OrderedDict[str, Alignment] = OrderedDict()
        self._lock = threading.Lock()

    def aligned(self, audio: Audio, transcript: str | None, language: str, align: Callable[[], Alignment]) -> Alignment:
        """The alignment kept for this clip, text and language, else align() (kept unless it raises)."""
        key = clip_key(audio, transcript, language)
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None:
                self._kept.move_to_end(key)
        if kept is None:  # aligned outside the lock: other clips' requests need not wait for this one
            kept = align()
            with self._lock:
                self._kept[key] = kept
                while len(self._kept) > self.size:
                    self._kept.popitem(last=False)
        return copy.deepcopy(kept)  # callers may change theirs; the kept one stays as found

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()

    def __len__(self) -> int:
        return len(self._kept)


def clip_key(audio: Audio, transcript: str | None, language: str) -> str:
    digest = hashlib.sha256(audio.samples.tobytes())
    digest.update(f"\0{len(audio.samples)}\0{language}\0".encode())
    digest.update(b"\1" if transcript is None else b"\2" + transcript.encode("utf-8"))
    return digest.hexdigest()
