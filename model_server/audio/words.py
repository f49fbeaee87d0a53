"""Dialogue text → the words a speaker says, and a pronunciation for every one of them.

Forced alignment can only place words it can pronounce. Dropping a word it cannot (a number, a
product name, "unmute") leaves its sound to its neighbours and shifts their phones, so every
word gets a pronunciation: the CMU dictionary's, else two dictionary words it is made of, else
letter-to-sound rules (or its letters spelled, for an acronym without vowels).
"""

from __future__ import annotations

import re

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
         "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_ORDINALS = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth", "nine": "ninth",
             "twelve": "twelfth"}
_SYMBOLS = {"%": " percent ", "&": " and ", "+": " plus ", "@": " at ", "=": " equals "}
# Stage directions and notes are not spoken: "(whispering)", "[laughs]".
_NOT_SPOKEN = re.compile(r"\([^)]*\)|\[[^\]]*\]|\{[^}]*\}")
_NUMBER = re.compile(r"(\d+)(?:\.(\d+))?(st|nd|rd|th)?")
MAX_SPELLED_NUMBER = 999_999_999


def number_words(value: int) -> list[str]:
    """English words of a non-negative integer: 1234 → one thousand two hundred thirty four."""
    if value < 20:
        return [_ONES[value]]
    if value < 100:
        return [_TENS[value // 10]] + (number_words(value % 10) if value % 10 else [])
    for size, name in ((1_000_000, "million"), (1000, "thousand"), (100, "hundred")):
        if value >= size:
            rest = value % size
            return number_words(value // size) + [name] + (number_words(rest) if rest else [])
    raise AssertionError(value)


def _ordinal(words: list[str]) -> list[str]:
    last = words[-1]
    if last in _ORDINALS:
        return words[:-1] + [_ORDINALS[last]]
    return words[:-1] + [last[:-1] + "ieth" if last.endswith("y") else last + "th"]


def _spoken_number(match: re.Match) -> str:
    whole, fraction, suffix = match.group(1), match.group(2), match.group(3)
    # A long digit string is read digit by digit (its length checked first: int() refuses 4300 digits and more).
    if len(whole.lstrip("0")) > len(str(MAX_SPELLED_NUMBER)) or int(whole) > MAX_SPELLED_NUMBER:
        return " " + " ".join(_ONES[int(d)] for d in whole) + " "
    words = number_words(int(whole))
    if suffix:
        words = _ordinal(words)
    if fraction:
        words += ["point"] + [_ONES[int(d)] for d in fraction]
    return " " + " ".join(words) + " "


def spoken_words(text: str) -> list[str]:
    """Lower-case words as spoken (numbers written out, apostrophes kept: "can't"), notes removed."""
    text = _NOT_SPOKEN.sub(" ", text.replace("’", "'"))
    for symbol, word in _SYMBOLS.items():
        text = text.replace(symbol, word)
    text = _NUMBER.sub(_spoken_number, text)
    return re.findall(r"[a-z]+(?:'[a-z]+)*", text.lower())


# --- pronunciations for words the dictionary lacks ----------------------------------------------

# Letter groups → ARPAbet, longest first; a rough reading, but the phones land in the word's span.
_LETTER_SOUNDS = [
    ("tion", "SH AH N"), ("sion", "ZH AH N"), ("ough", "AO"), ("augh", "AO"), ("igh", "AY"), ("eigh", "EY"),
    ("tch", "CH"), ("dge", "JH"), ("sch", "S K"), ("th", "TH"), ("sh", "SH"), ("ch", "CH"), ("ph", "F"),
    ("wh", "W"), ("ck", "K"), ("ng", "NG"), ("qu", "K W"), ("kn", "N"), ("wr", "R"), ("gh", "G"),
    ("ee", "IY"), ("ea", "IY"), ("oo", "UW"), ("ou", "AW"), ("ow", "OW"), ("oa", "OW"), ("oi", "OY"),
    ("oy", "OY"), ("ai", "EY"), ("ay", "EY"), ("au", "AO"), ("aw", "AO"), ("ie", "IY"), ("ei", "IY"),
    ("ue", "UW"), ("ew", "UW"), ("er", "ER"), ("ir", "ER"), ("ur", "ER"), ("ar", "AA R"), ("or", "AO R"),
    ("a", "AE"), ("e", "EH"), ("i", "IH"), ("o", "AA"), ("u", "AH"), ("y", "IY"),
    ("b", "B"), ("c", "K"), ("d", "D"), ("f", "F"), ("g", "G"), ("h", "HH"), ("j", "JH"), ("k", "K"),
    ("l", "L"), ("m", "M"), ("n", "N"), ("p", "P"), ("q", "K"), ("r", "R"), ("s", "S"), ("t", "T"),
    ("v", "V"), ("w", "W"), ("x", "K S"), ("z", "Z"), ("'", ""),
]
MIN_COMPOUND_PART = 2


def letter_to_sound(word: str) -> str:
    """ARPAbet for a word by spelling rules (silent final e dropped, doubled letters read once)."""
    letters = re.sub(r"(.)\1", r"\1", word.lower())
    if len(letters) > 3 and letters.endswith("e") and letters[-2] not in "aeiouy":
        letters = letters[:-1]
    phones, i = [], 0
    while i < len(letters):
        for group, sound in _LETTER_SOUNDS:
            if letters.startswith(group, i):
                phones += sound.split()
                i += len(group)
                break
        else:
            i += 1  # a character no rule reads (digits and marks were removed before)
    return " ".join(phones)


def guess_pronunciation(word: str, lookup) -> str | None:
    """Phones for a word the dictionary (`lookup(word) -> phones or None`) lacks."""
    if not word:
        return None
    for split in range(len(word) - MIN_COMPOUND_PART, MIN_COMPOUND_PART - 1, -1):  # "unmute" = "un" + "mute"
        head, tail = lookup(word[:split]), lookup(word[split:])
        if head and tail:
            return f"{head} {tail}"
    if not re.search(r"[aeiouy]", word):  # "pbx", "www": an acronym is spelled
        letters = [lookup(letter) for letter in word if letter.isalpha()]
        return " ".join(letters) if letters and all(letters) else None
    return letter_to_sound(word) or None
