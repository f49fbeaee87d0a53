"""The CMU pronouncing dictionary pocketsphinx ships, read once per process, and the few entries one
clip's words need.

A decoder that loads the whole dictionary (135,000 entries) takes about 0.4 s to make, more than a
tenth of aligning a minute of speech; one given only a clip's words (with every variant, "the(2)")
takes about 0.15 s and aligns the same. Most of that 0.15 s is the language model, which stays: without
it forced alignment ends some clips differently.
"""

from __future__ import annotations

import threading

from pocketsphinx import Config

DICTIONARY = Config()["dict"]  # the default decoder's dictionary, inside the pocketsphinx package

_ENTRIES: dict[str, list[str]] = {}  # word → its pronunciations, the dictionary's first one first
_READ_LOCK = threading.Lock()


def word_name(label: str) -> str:
    """Dictionary entry → word: "the(2)" names a pronunciation variant of "the"."""
    if label.endswith(")"):  # string tests first: this runs for each of the 135,000 lines
        word, _, variant = label[:-1].rpartition("(")
        if word and variant.isdigit():
            return word
    return label


def _entries() -> dict[str, list[str]]:
    with _READ_LOCK:
        if not _ENTRIES:
            with open(DICTIONARY, encoding="utf-8") as lines:
                for line in lines:
                    name, _, phones = line.strip().partition(" ")
                    if phones:
                        _ENTRIES.setdefault(word_name(name), []).append(phones.strip())
        return _ENTRIES


def read() -> None:
    """Read the dictionary now (the model process does it while it waits for its first request)."""
    _entries()


def lookup(word: str) -> str | None:
    """The word's first pronunciation ("HH AH L OW"), as the decoder's lookup_word gives it; None if absent."""
    found = _entries().get(word)
    return found[0] if found else None


def entries_for(words: list[str]) -> list[str]:
    """Dictionary lines for these words and all their variants, in the dictionary's own format."""
    entries, lines = _entries(), []
    for word in sorted(set(words)):
        for k, phones in enumerate(entries.get(word, [])):
            lines.append(f"{word if k == 0 else f'{word}({k + 1})'} {phones}")
    return lines
