"""Make synthetic speech sound more like recordings: pitch shift, room reverb, band-limiting, noise.

Everything here keeps the clip's length to the sample, so the face targets (computed on the clean
audio) and the content features (computed on the augmented audio) stay frame-aligned.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile

from ..audio.types import SAMPLE_RATE


@dataclass(frozen=True)
class Augmentation:
    pitch_cents: float = 0.0  # 0: none; sox `pitch`, duration kept
    reverb: tuple[float, float, float] | None = None  # sox `reverb` reverberance %, HF damping %, room scale %
    band: tuple[float, float] | None = None  # pass band in Hz (300, 3400 is a telephone)
    snr_db: float | None = None  # additive noise
    noise_color: str = "white"  # "white" or "pink"
    gain_db: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)

    def sox_effects(self) -> list[str]:
        effects: list[str] = []
        if abs(self.pitch_cents) >= 1:
            effects += ["pitch", f"{self.pitch_cents:.0f}"]
        if self.reverb is not None:
            effects += ["reverb", *(f"{v:.0f}" for v in self.reverb)]
        if self.band is not None:
            low, high = self.band
            if low > 0:
                effects += ["highpass", f"{low:.0f}"]
            effects += ["lowpass", f"{high:.0f}"]
        return effects


def sample_augmentation(rng: np.random.Generator) -> Augmentation:
    """A random recording condition; about one clip in eight stays clean."""
    if rng.random() < 0.12:
        return Augmentation()
    pitch = float(rng.uniform(-350, 350)) if rng.random() < 0.6 else 0.0
    reverb = (float(rng.uniform(10, 70)), float(rng.uniform(20, 80)), float(rng.uniform(20, 100))) \
        if rng.random() < 0.4 else None
    band = None
    choice = rng.random()
    if choice < 0.15:
        band = (300.0, 3400.0)
    elif choice < 0.4:
        band = (float(rng.choice([0.0, 60.0, 120.0])), float(rng.uniform(3000, 7500)))
    snr = float(rng.uniform(10, 30)) if rng.random() < 0.7 else None
    return Augmentation(pitch_cents=round(pitch, 1), reverb=None if reverb is None else tuple(round(v, 1) for v in reverb),
                        band=None if band is None else (round(band[0], 1), round(band[1], 1)),
                        snr_db=None if snr is None else round(snr, 1),
                        noise_color=str(rng.choice(["white", "pink"])), gain_db=round(float(rng.uniform(-8, 2)), 1))


def apply_augmentation(samples: np.ndarray, augmentation: Augmentation, rng: np.random.Generator) -> np.ndarray:
    """(n,) float32 16 kHz → (n,) float32 16 kHz, the same length."""
    out = _sox(samples, augmentation.sox_effects()) if augmentation.sox_effects() else samples.astype(np.float32)
    out = _fit_length(out, len(samples))
    if augmentation.snr_db is not None:
        out = out + noise_at_snr(out, augmentation.snr_db, augmentation.noise_color, rng)
    out = out * 10 ** (augmentation.gain_db / 20)
    peak = float(np.max(np.abs(out)))
    if peak > 0.99:
        out = out * (0.99 / peak)
    return out.astype(np.float32)


def noise_at_snr(speech: np.ndarray, snr_db: float, color: str, rng: np.random.Generator) -> np.ndarray:
    """Noise whose power is snr_db below the speech's power over its louder half (pauses excluded)."""
    noise = rng.standard_normal(len(speech))
    if color == "pink":
        spectrum = np.fft.rfft(noise)
        spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1.0))
        noise = np.fft.irfft(spectrum, n=len(speech))
    frames = speech[: len(speech) // 320 * 320].reshape(-1, 320)
    energy = np.mean(frames ** 2, axis=1) if len(frames) else np.array([np.mean(speech ** 2)])
    speech_power = float(np.mean(energy[energy >= np.median(energy)]))
    noise *= np.sqrt(speech_power / 10 ** (snr_db / 10) / max(float(np.mean(noise ** 2)), 1e-12))
    return noise.astype(np.float32)


def _fit_length(samples: np.ndarray, length: int) -> np.ndarray:
    if len(samples) >= length:
        return samples[:length]
    return np.pad(samples, (0, length - len(samples)))


def _sox(samples: np.ndarray, effects: list[str]) -> np.ndarray:
    with tempfile.TemporaryDirectory(prefix="augment-") as folder:
        src, dst = Path(folder) / "in.wav", Path(folder) / "out.wav"
        soundfile.write(str(src), samples, SAMPLE_RATE, subtype="FLOAT")
        # Float output: no dither, so the same clip and effects always give the same samples.
        subprocess.run(["sox", "-q", str(src), "-e", "floating-point", str(dst), *effects],
                       check=True, capture_output=True, timeout=60)
        out, rate = soundfile.read(str(dst), dtype="float32")
    if rate != SAMPLE_RATE:
        raise RuntimeError(f"sox returned {rate} Hz, expected {SAMPLE_RATE}")
    return out if out.ndim == 1 else out.mean(axis=1)
