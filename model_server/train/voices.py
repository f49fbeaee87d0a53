"""espeak-ng speakers: English accents × voice variants, with speakers held out for testing.

A test speaker has an accent or a variant never heard in training, so test scores measure how the
model carries over to voices it has not seen (as real users' voices will be).
"""

from __future__ import annotations

from dataclasses import dataclass

# espeak-ng's English accents (`espeak-ng --voices=en`, the built-in gmw/ ones; MBROLA voices need
# extra packages and are left out).
ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp", "en-029", "en-us-nyc",
           "en-gb-x-gbcwmd")
HELD_OUT_ACCENTS = ("en-gb-x-gbcwmd",)

# Voice variants (`espeak-ng --voices=variant`) that sound like a person speaking and that
# pocketsphinx aligns to US dictionary pronunciations at least half the time (measured on en-us over
# 8 sentences); whispering, robot and effect voices, and Alicia, Andrea, Andy, Annie, aunty,
# belinda, Lee, linda, Michael, norbert, quincy, rob, robert, shelby, travis and zac, are left out.
VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f3", "f4", "f5",
            "klatt", "klatt2", "klatt3", "klatt4", "klatt6",
            "adam", "Alex", "benjamin", "caleb", "david", "ed", "edward", "Gene", "john", "max", "Mike",
            "paul", "steph", "steph2", "victor", "anika", "grandma", "grandpa")
HELD_OUT_VARIANTS = ("m4", "f3", "klatt3", "david", "steph2", "grandma")


@dataclass(frozen=True)
class Voice:
    accent: str
    variant: str

    @property
    def name(self) -> str:
        """What `espeak-ng -v` takes: "en-us+f2"."""
        return f"{self.accent}+{self.variant}"

    @property
    def held_out(self) -> bool:
        return self.accent in HELD_OUT_ACCENTS or self.variant in HELD_OUT_VARIANTS


def all_voices() -> list[Voice]:
    return [Voice(accent, variant) for accent in ACCENTS for variant in VARIANTS]


def voices_for(split: str) -> list[Voice]:
    """Training speakers use only seen accents and variants; test speakers have at least one unseen."""
    return [v for v in all_voices() if v.held_out == (split == "test")]
