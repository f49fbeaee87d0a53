"""Curves for rigs that have no ARKit shapes, only visemes and a few expressions (VRM, VRoid,
Oculus/VRChat visemes), derived from what the model writes: the ARKit articulation and the phones.

VRM's five vowels follow the mouth's shape frame by frame: how open the lips are (the aperture the
closure guarantee and the metrics use), how rounded and how spread. Oculus's fifteen visemes follow
the phones, each easing in and out over a frame or two. Blinks and the expressions VRM names
(angry, happy, sad, surprised) follow the ARKit channels that make them. Stdlib only.
"""

from __future__ import annotations

from .formats import ARKIT_NAMES

_I = {name: i for i, name in enumerate(ARKIT_NAMES)}
OPEN_APERTURE = 0.6  # an aperture this wide reads as a fully open "A"


def _get(row, *names: str) -> float:
    return sum(row[_I[n]] for n in names) / len(names)


def _shape(row) -> tuple[float, float, float]:
    """(open, round, spread) of one frame of ARKit weights, each 0..1."""
    aperture = (row[_I["jawOpen"]] + 0.5 * _get(row, "mouthLowerDownLeft", "mouthLowerDownRight")
                + 0.5 * _get(row, "mouthUpperUpLeft", "mouthUpperUpRight") + 0.3 * row[_I["mouthFunnel"]]
                - row[_I["mouthClose"]])
    opened = min(1.0, max(0.0, aperture / OPEN_APERTURE))
    rounded = min(1.0, row[_I["mouthPucker"]] + row[_I["mouthFunnel"]])
    spread = min(1.0, _get(row, "mouthStretchLeft", "mouthStretchRight") + 0.5 * _get(row, "mouthSmileLeft",
                                                                                       "mouthSmileRight"))
    return opened, rounded, spread


def _vowel(which: str):
    def value(row) -> float:
        opened, rounded, spread = _shape(row)
        return {"A": opened * (1 - rounded) * (1 - spread), "I": spread * (1 - rounded) * (1 - 0.5 * opened),
                "U": rounded * (1 - opened), "E": spread * opened * (1 - rounded), "O": rounded * opened}[which]
    return value


def _channel(name: str):
    return lambda row: row[_I[name]]


def _mean(*names: str):
    return lambda row: _get(row, *names)


FROM_ARKIT = {
    "vowel_A": _vowel("A"), "vowel_I": _vowel("I"), "vowel_U": _vowel("U"), "vowel_E": _vowel("E"),
    "vowel_O": _vowel("O"),
    "blink": _mean("eyeBlinkLeft", "eyeBlinkRight"), "blink_L": _channel("eyeBlinkLeft"),
    "blink_R": _channel("eyeBlinkRight"),
    "angry": _mean("browDownLeft", "browDownRight"), "happy": _mean("mouthSmileLeft", "mouthSmileRight"),
    "sad": _mean("mouthFrownLeft", "mouthFrownRight"), "surprised": _mean("browInnerUp", "eyeWideLeft", "eyeWideRight"),
}

# ARPAbet phone → Oculus viseme (the 15 of the Oculus Lipsync SDK, also VRChat's vrc.v_*).
OCULUS_VISEMES = ("sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "I", "O", "U")
_PHONE_VISEME = {
    "P": "PP", "B": "PP", "M": "PP", "F": "FF", "V": "FF", "TH": "TH", "DH": "TH", "T": "DD", "D": "DD",
    "K": "kk", "G": "kk", "NG": "kk", "HH": "kk", "CH": "CH", "JH": "CH", "SH": "CH", "ZH": "CH", "S": "SS",
    "Z": "SS", "N": "nn", "L": "nn", "R": "RR", "ER": "RR", "AA": "aa", "AE": "aa", "AH": "aa", "AY": "aa",
    "AW": "aa", "EH": "E", "EY": "E", "IH": "I", "IY": "I", "Y": "I", "AO": "O", "OW": "O", "OY": "O",
    "UH": "U", "UW": "U", "W": "U", "SIL": "sil",
}
EASE_FRAMES = 1.5  # a viseme rises and falls over about this many frames either side of its phone


def viseme_weights(phones: list[dict], frames: int, fps: float) -> dict[str, list[float]]:
    """Per Oculus viseme, its weight at every frame: 1 inside its phones, easing linearly outside."""
    out = {name: [0.0] * frames for name in OCULUS_VISEMES}
    for phone in phones:
        curve = out[_PHONE_VISEME.get(phone["phone"], "sil")]
        start, end = phone["start"] * fps, phone["end"] * fps
        for i in range(max(0, int(start - EASE_FRAMES)), min(frames, int(end + EASE_FRAMES) + 1)):
            distance = max(0.0, start - i, i - end)
            curve[i] = max(curve[i], 1.0 - distance / EASE_FRAMES if distance < EASE_FRAMES else 0.0)
    return out


def derived_values(channel: str, curves: dict) -> list[float]:
    """One derived channel ("vowel_A", "blink_L", "viseme_PP", …) at every frame of a curves document."""
    if channel.startswith("viseme_"):
        visemes = viseme_weights(curves["phones"], curves["num_frames"], curves["fps"])
        return visemes[channel[len("viseme_"):]]
    value = FROM_ARKIT[channel]
    return [min(1.0, max(0.0, value(row))) for row in curves["arkit"]["weights"]]


# Shape-key names of viseme rigs → derived channel.
VISEME_RIG_NAMES = {
    # VRM 0.x (UniVRM blend-shape clips as keys) and VRM 1.0 expression names.
    "a": "vowel_A", "i": "vowel_I", "u": "vowel_U", "e": "vowel_E", "o": "vowel_O",
    "aa": "vowel_A", "ih": "vowel_I", "ou": "vowel_U", "ee": "vowel_E", "oh": "vowel_O",
    "blink": "blink", "blink_l": "blink_L", "blink_r": "blink_R", "blinkleft": "blink_L", "blinkright": "blink_R",
    "angry": "angry", "joy": "happy", "happy": "happy", "sorrow": "sad", "sad": "sad", "surprised": "surprised",
    # VRoid Studio's face keys.
    "fcl_mth_a": "vowel_A", "fcl_mth_i": "vowel_I", "fcl_mth_u": "vowel_U", "fcl_mth_e": "vowel_E",
    "fcl_mth_o": "vowel_O", "fcl_eye_close": "blink", "fcl_eye_close_l": "blink_L", "fcl_eye_close_r": "blink_R",
    "fcl_brw_angry": "angry", "fcl_brw_joy": "happy", "fcl_brw_sorrow": "sad", "fcl_brw_surprised": "surprised",
    # Oculus Lipsync / Ready Player Me and VRChat names.
    **{f"viseme_{v}".lower(): f"viseme_{v}" for v in OCULUS_VISEMES},
    **{f"vrc.v_{v}".lower(): f"viseme_{v}" for v in OCULUS_VISEMES},
    "vrc.v_ih": "viseme_I", "vrc.v_oh": "viseme_O", "vrc.v_ou": "viseme_U",
}
MOUTH_CHANNELS = {c for c in VISEME_RIG_NAMES.values() if c.startswith(("vowel_", "viseme_"))}


def viseme_channel(key_name: str) -> str | None:
    return VISEME_RIG_NAMES.get(key_name.strip().lower())
