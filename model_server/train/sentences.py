"""Real English sentences for the synthetic corpus, from Debian's fortune databases (package `fortunes`).

Only sentences pocketsphinx can force-align are kept: every word in its dictionary, plain letters and
apostrophes, 4..20 words. The train/test split hashes the sentence itself, so it does not depend on
which files are installed or in what order they are read.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from pocketsphinx import get_model_path

FORTUNES_DIR = Path("/usr/share/games/fortunes")
SKIPPED_DATABASES = ("ascii-art", "art")  # drawings, not prose
MIN_WORDS, MAX_WORDS = 4, 20

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")
_WORD = re.compile(r"^[A-Za-z]+(?:'[A-Za-z]+)*$")
_STRIP = ".,;:!?()"


@dataclass(frozen=True)
class SentenceBank:
    train: tuple[str, ...]
    test: tuple[str, ...]

    def split(self, name: str) -> tuple[str, ...]:
        return self.train if name == "train" else self.test


def pronouncing_words() -> frozenset[str]:
    """Words in the dictionary pocketsphinx aligns with (variants "the(2)" folded into "the")."""
    path = os.path.join(get_model_path(), "en-us", "cmudict-en-us.dict")
    with open(path, encoding="utf-8") as handle:
        return frozenset(re.sub(r"\(\d+\)$", "", line.split(" ", 1)[0]) for line in handle if line.strip())


def fortune_entries(directory: Path = FORTUNES_DIR) -> list[str]:
    """The text of each fortune (entries are separated by lines holding only "%"); offensive ones are skipped."""
    entries = []
    for path in sorted(directory.iterdir()):
        if not path.is_file() or path.suffix or path.name in SKIPPED_DATABASES:
            continue  # .dat indexes and .u8 links; the off/ subdirectory is not a file
        text = path.read_text(encoding="utf-8", errors="replace")
        entries += [entry for entry in re.split(r"^%\s*$", text, flags=re.MULTILINE) if entry.strip()]
    return entries


def sentences_of(entry: str) -> list[str]:
    """Sentences of one fortune, attribution lines ("-- Mark Twain") removed, whitespace collapsed."""
    lines = [line for line in entry.splitlines() if not line.strip().startswith(("--", "\t\t--"))]
    text = " ".join(" ".join(lines).split())
    # Quotation marks are not spoken, and a split sentence would keep only one of a pair.
    return [s.replace('"', "").strip() for s in _SENTENCE_END.split(text) if s.replace('"', "").strip()]


def speakable(sentence: str, vocabulary: frozenset[str]) -> bool:
    """Plain words only (espeak reads them as written), all known to the aligner, 4..20 of them."""
    if not re.fullmatch(r"[A-Za-z' ,;:.!?-]+", sentence) or " -" in sentence or "--" in sentence:
        return False
    words = [w.strip(_STRIP) for w in sentence.split()]
    if not MIN_WORDS <= len(words) <= MAX_WORDS:
        return False
    for word in words:
        if not _WORD.match(word) or word.lower() not in vocabulary:
            return False
        if len(word) > 1 and word.isupper() and word != "I'M":
            return False  # acronyms are spelled out by espeak, not read as the dictionary word
        if len(word) == 1 and word.lower() not in ("a", "i"):
            return False
    return True


def is_test_sentence(sentence: str, test_fraction: float) -> bool:
    digest = hashlib.sha256(sentence.lower().encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < test_fraction


def load_sentence_bank(test_fraction: float = 0.1, directory: Path = FORTUNES_DIR) -> SentenceBank:
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory} not found: install the Debian package `fortunes`")
    vocabulary = pronouncing_words()
    seen, train, test = set(), [], []
    for entry in fortune_entries(directory):
        for sentence in sentences_of(entry):
            key = " ".join(w.strip(_STRIP).lower() for w in sentence.split())
            if key in seen or not speakable(sentence, vocabulary):
                continue
            seen.add(key)
            (test if is_test_sentence(key, test_fraction) else train).append(sentence)
    return SentenceBank(tuple(sorted(train)), tuple(sorted(test)))
