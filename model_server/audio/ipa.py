"""IPA phonemes (eSpeak NG's, any language) → the phone labels the articulation uses (ARPAbet).

The lips care about a phoneme's place and rounding, not its language: each IPA segment goes to the
English phone whose mouth shape is closest (visemes.py): bilabials to P B M, labiodentals to F V,
dentals, alveolars, post-alveolars and velars to theirs, vowels by height, frontness and rounding
(French /y/ and /ø/ round like /u/ and /o/), nasal vowels to their oral vowel.
"""

from __future__ import annotations

# Whole segments first (affricates, diphthongs, clusters eSpeak reports as one phoneme).
SEGMENTS = {
    "tʃ": "CH", "dʒ": "JH", "ts": "S", "dz": "Z", "tɕ": "CH", "dʑ": "JH", "tʂ": "CH", "dʐ": "JH", "pf": "F",
    "aɪ": "AY", "aj": "AY", "eɪ": "EY", "ej": "EY", "oʊ": "OW", "əʊ": "OW", "aʊ": "AW", "aw": "AW",
    "ɔɪ": "OY", "ɔj": "OY", "oj": "OY", "ɪə": "IH", "eə": "EH", "ʊə": "UH", "ju": "UW",
}
LETTERS = {
    # Consonants, by place.
    "p": "P", "b": "B", "m": "M", "β": "B", "ɸ": "F",
    "f": "F", "v": "V", "ʋ": "V", "ɱ": "M",
    "θ": "TH", "ð": "DH",
    "t": "T", "d": "D", "n": "N", "l": "L", "ɫ": "L", "ɭ": "L", "ɬ": "L", "s": "S", "z": "Z",
    "ɾ": "R", "r": "R", "ɹ": "R", "ɻ": "R", "ʀ": "R", "ʁ": "R", "ɽ": "R",
    "ʃ": "SH", "ʒ": "ZH", "ʂ": "SH", "ʐ": "ZH", "ɕ": "SH", "ʑ": "ZH",
    "c": "K", "ɟ": "G", "ɲ": "N", "ʎ": "L", "j": "Y", "ç": "HH", "ʝ": "Y",
    "k": "K", "g": "G", "ɡ": "G", "ŋ": "NG", "x": "HH", "ɣ": "G", "χ": "HH", "q": "K", "ɢ": "G", "ɰ": "W",
    "w": "W", "ɥ": "W", "h": "HH", "ɦ": "HH", "ʔ": "SIL", "ħ": "HH", "ʕ": "HH",
    # Vowels: open → close, spread → rounded.
    "a": "AA", "ɑ": "AA", "ä": "AA", "ɒ": "AO", "æ": "AE", "ɐ": "AH", "ʌ": "AH", "ə": "AH", "ɘ": "AH",
    "ɜ": "ER", "ɝ": "ER", "ɚ": "ER", "ɞ": "ER",
    "e": "EY", "ɛ": "EH", "i": "IY", "ɪ": "IH", "ɨ": "IH", "ɯ": "IH", "ɤ": "AH",
    "o": "OW", "ɔ": "AO", "u": "UW", "ʊ": "UH", "ʉ": "UW",
    "y": "UW", "ʏ": "UH", "ø": "OW", "œ": "AO", "ɵ": "UH", "ɶ": "AO",
}
IGNORED = set("ʲʷˠˤʰ̃ʼ")  # palatalised, labialised, aspirated…: the base phoneme carries the shape


def arpabet(ipa: str) -> list[str]:
    """One eSpeak phoneme (already without stress marks) as one or more phone labels."""
    segment = "".join(c for c in ipa if c not in IGNORED)
    if not segment:
        return []
    if segment in SEGMENTS:
        return [SEGMENTS[segment]]
    labels, i = [], 0
    while i < len(segment):
        pair = segment[i:i + 2]
        if pair in SEGMENTS:
            labels.append(SEGMENTS[pair])
            i += 2
            continue
        label = LETTERS.get(segment[i])
        if label is not None and not (labels and labels[-1] == label):  # "ɑɑ", a long vowel, is one phone
            labels.append(label)
        i += 1
    return labels
