"""Dialogue text → spoken words, and a pronunciation for words the dictionary lacks."""

from __future__ import annotations

import pytest
from pocketsphinx import Decoder

from model_server.audio.words import guess_pronunciation, letter_to_sound, number_words, spoken_words


@pytest.fixture(scope="module")
def lookup():
    return Decoder(samprate=16000, loglevel="FATAL").lookup_word


@pytest.mark.parametrize("value, words", [
    (0, "zero"), (7, "seven"), (13, "thirteen"), (40, "forty"), (42, "forty two"), (100, "one hundred"),
    (500, "five hundred"), (1234, "one thousand two hundred thirty four"), (2_000_001, "two million one"),
])
def test_number_words(value, words):
    assert " ".join(number_words(value)) == words


@pytest.mark.parametrize("text, words", [
    ("Please press 1 to mute", "please press one to mute"),
    ("a 28.8 kilobit modem", "a twenty eight point eight kilobit modem"),
    ("the 21st and 2nd floor", "the twenty first and second floor"),
    ("IAX (note: does not say \"2\")", "iax"),
    ("[laughs] I can’t, 100% sure", "i can't one hundred percent sure"),
    ("Call-Forward on Busy.", "call forward on busy"),
    ("dial 5551234567890 now", "dial five five five one two three four five six seven eight nine zero now"),
])
def test_spoken_words_write_out_numbers_and_drop_notes(text, words):
    assert " ".join(spoken_words(text)) == words


def test_compound_words_take_their_parts_pronunciations(lookup):
    assert guess_pronunciation("unmute", lookup) == f"{lookup('un')} {lookup('mute')}"


def test_acronyms_without_vowels_are_spelled(lookup):
    assert guess_pronunciation("pbx", lookup) == " ".join(lookup(c) for c in "pbx")


def test_letter_to_sound_reads_other_words_by_spelling():
    assert letter_to_sound("digium").split()[0] == "D"
    assert letter_to_sound("thumb").split()[:2] == ["TH", "AH"]
    assert "SH" in letter_to_sound("station").split()
    assert letter_to_sound("phone").split() == ["F", "AA", "N"]  # silent final e
