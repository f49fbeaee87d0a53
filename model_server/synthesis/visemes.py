"""Phone → mouth target (viseme) in the ARKit articulation space, with its coarticulation dominance.

`jaw` is the jaw opening 0..1 before loudness and style scale it; the other entries are ARKit weights.
Dominance (Cohen & Massaro 1993): how strongly a phone holds its target against its neighbours;
bilabials and labiodentals dominate so closures are reached even in fast speech.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Viseme:
    jaw: float
    shape: dict[str, float] = field(default_factory=dict)
    dominance: float = 1.0  # peak strength
    spread: float = 12.0  # 1/s: how fast dominance falls off outside the phone


_BILABIAL = Viseme(0.02, {"mouthPressLeft": 0.3, "mouthPressRight": 0.3, "mouthRollLower": 0.1}, 4.0, 22.0)
_LABIODENTAL = Viseme(0.08, {"mouthRollLower": 0.55, "mouthUpperUpLeft": 0.15, "mouthUpperUpRight": 0.15,
                             "mouthShrugUpper": 0.2}, 3.0, 20.0)
_SPREAD = lambda jaw, amount: Viseme(jaw, {"mouthStretchLeft": amount, "mouthStretchRight": amount,  # noqa: E731
                                           "mouthSmileLeft": amount * 0.3, "mouthSmileRight": amount * 0.3})
_ROUND = lambda jaw, pucker, funnel, dom=1.2: Viseme(jaw, {"mouthPucker": pucker, "mouthFunnel": funnel}, dom)  # noqa: E731

VISEMES: dict[str, Viseme] = {
    "P": _BILABIAL, "B": _BILABIAL, "M": _BILABIAL,
    "F": _LABIODENTAL, "V": _LABIODENTAL,
    # Vowels: jaw opening follows vowel height (open > mid > close).
    "AA": Viseme(0.80, {"mouthLowerDownLeft": 0.3, "mouthLowerDownRight": 0.3}),
    "AE": Viseme(0.68, {"mouthLowerDownLeft": 0.3, "mouthLowerDownRight": 0.3, "mouthStretchLeft": 0.25,
                        "mouthStretchRight": 0.25}),
    "AO": _ROUND(0.70, 0.15, 0.35),
    "AH": Viseme(0.55, {"mouthLowerDownLeft": 0.2, "mouthLowerDownRight": 0.2}),
    "AW": _ROUND(0.60, 0.3, 0.3),
    "AY": _SPREAD(0.62, 0.2),
    "EH": _SPREAD(0.48, 0.25),
    "ER": _ROUND(0.35, 0.2, 0.4),
    "EY": _SPREAD(0.40, 0.35),
    "IH": _SPREAD(0.30, 0.3),
    "IY": _SPREAD(0.20, 0.45),
    "UH": _ROUND(0.30, 0.35, 0.25),
    "UW": _ROUND(0.18, 0.75, 0.45, 1.5),
    "OW": _ROUND(0.42, 0.5, 0.55, 1.4),
    "OY": _ROUND(0.45, 0.45, 0.4),
    # Rounded and post-alveolar consonants.
    "W": _ROUND(0.10, 0.85, 0.3, 2.0),
    "R": _ROUND(0.22, 0.25, 0.4, 0.8),
    "SH": _ROUND(0.15, 0.3, 0.65, 1.5), "ZH": _ROUND(0.15, 0.3, 0.65, 1.5),
    "CH": _ROUND(0.15, 0.3, 0.6, 1.5), "JH": _ROUND(0.15, 0.3, 0.6, 1.5),
    # Tongue consonants: the lips follow the neighbours (low dominance).
    "TH": Viseme(0.15, {"tongueOut": 0.35}, 0.8), "DH": Viseme(0.15, {"tongueOut": 0.3}, 0.7),
    "S": Viseme(0.10, {"mouthStretchLeft": 0.2, "mouthStretchRight": 0.2}, 0.9),
    "Z": Viseme(0.10, {"mouthStretchLeft": 0.2, "mouthStretchRight": 0.2}, 0.9),
    "T": Viseme(0.20, {}, 0.5), "D": Viseme(0.20, {}, 0.5), "N": Viseme(0.18, {}, 0.5),
    "L": Viseme(0.30, {}, 0.5), "Y": _SPREAD(0.15, 0.3),
    "K": Viseme(0.25, {}, 0.4), "G": Viseme(0.25, {}, 0.4), "NG": Viseme(0.22, {}, 0.4),
    "HH": Viseme(0.35, {}, 0.2),
    "SIL": Viseme(0.0, {}, 0.6, 8.0),
}
BILABIALS = frozenset({"P", "B", "M"})


def viseme_for(phone: str) -> Viseme:
    return VISEMES.get(phone, VISEMES["SIL"] if phone == "SIL" else Viseme(0.25, {}, 0.5))
