"""Read speech files into 16 kHz mono float32, refusing what cannot be animated with a clear message."""

from __future__ import annotations

import io
import math
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import soundfile

from ..errors import AudioError, path_problem
from .types import SAMPLE_RATE, Audio

MIN_SECONDS = 0.1
SILENCE_PEAK_DBFS = -60.0
# Rates outside this range are not speech recordings (and 16 kHz could not be reached from them
# with a polyphase filter of sane size); 768 kHz is the highest rate audio interfaces record at.
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 4_000, 768_000


def load_audio(source: str | Path | bytes, *, filename: str = "<upload>", max_seconds: float = 1800.0) -> Audio:
    """Decode WAV/FLAC/OGG/MP3 (anything libsndfile reads), mix to mono and resample to 16 kHz."""
    if isinstance(source, (bytes, bytearray)):
        name = filename
        if not source:
            raise AudioError(f"{name}: the audio file is empty (0 bytes)")
        opener = lambda: soundfile.SoundFile(io.BytesIO(source))  # noqa: E731
    else:
        path = Path(source)
        name = path.name[:80]
        try:
            size = path.stat().st_size if path.is_file() else None
        except (OSError, ValueError) as exc:  # a name too long for the filesystem, a loop of links, …
            raise AudioError(f"{name}: cannot open this path ({path_problem(exc)})") from exc
        if size is None:
            raise AudioError(f"{name}: no such audio file ({str(path)[:200]})")
        if size == 0:
            raise AudioError(f"{name}: the audio file is empty (0 bytes)")
        opener = lambda: soundfile.SoundFile(str(path))  # noqa: E731

    try:
        with opener() as sound:
            source_rate = sound.samplerate
            if not MIN_SAMPLE_RATE <= source_rate <= MAX_SAMPLE_RATE:
                raise AudioError(f"{name}: a sample rate of {source_rate} Hz is not a speech recording "
                                 f"(use {MIN_SAMPLE_RATE // 1000}-{MAX_SAMPLE_RATE // 1000} kHz)")
            # Refuse over-long input from the header, before decoding hours of samples.
            if sound.frames > 0 and sound.frames / source_rate > max_seconds:
                raise AudioError(
                    f"{name}: {sound.frames / source_rate / 60:.1f} min is longer than the limit of "
                    f"{max_seconds / 60:g} min; split the dialogue or raise the limit in the preferences")
            samples = sound.read(dtype="float32", always_2d=True)
    except AudioError:
        raise
    except soundfile.LibsndfileError as exc:  # its own words, without the file object's repr or path
        reason = exc.error_string.strip().rstrip(".") or "not a format libsndfile reads"
        raise AudioError(f"{name}: cannot decode audio ({reason}); use WAV, FLAC, OGG or MP3") from exc
    except (RuntimeError, TypeError, ValueError, MemoryError, OSError) as exc:
        raise AudioError(f"{name}: cannot decode audio (the file is damaged or not audio); "
                         f"use WAV, FLAC, OGG or MP3") from exc

    if samples.shape[0] == 0:
        raise AudioError(f"{name}: the audio has no samples")
    duration = samples.shape[0] / source_rate
    if duration > max_seconds:
        raise AudioError(f"{name}: {duration / 60:.1f} min is longer than the limit of {max_seconds / 60:g} min")
    if duration < MIN_SECONDS:
        raise AudioError(f"{name}: {duration * 1000:.0f} ms is too short to animate (at least {MIN_SECONDS:g} s)")
    broken = int(np.count_nonzero(~np.isfinite(samples)))
    if broken:  # float WAVs can carry NaN or infinity, which would poison every feature downstream
        raise AudioError(f"{name}: {broken} samples are not numbers (NaN or infinity); the file is damaged, "
                         f"re-export it from the audio editor")
    mono = samples.mean(axis=1)
    peak = float(np.max(np.abs(mono)))
    if peak <= 10 ** (SILENCE_PEAK_DBFS / 20):
        raise AudioError(f"{name}: the audio is silent (peak below {SILENCE_PEAK_DBFS:g} dBFS)")
    return Audio(samples=resample(mono, source_rate), source_sample_rate=source_rate, source=name)


def trimmed(audio: Audio, start: float | None, end: float | None) -> Audio:
    """The part of `audio` from `start` to `end` seconds (None: its beginning, its end), for a sound
    strip of which only the middle is heard. Refuses a part outside the file or too short to animate."""
    if start is None and end is None:
        return audio
    begin = 0.0 if start is None else float(start)
    stop = audio.duration if end is None else min(float(end), audio.duration)
    if not (math.isfinite(begin) and math.isfinite(stop)) or begin < 0:
        raise AudioError(f"{audio.source}: the part to animate must start at 0 s or later, got {start} to {end}")
    if begin >= audio.duration:
        raise AudioError(f"{audio.source}: the part to animate starts at {begin:.2f} s, after the audio ends "
                         f"({audio.duration:.2f} s)")
    if stop - begin < MIN_SECONDS:
        raise AudioError(f"{audio.source}: the part to animate ({begin:.2f}-{stop:.2f} s) is shorter than "
                         f"{MIN_SECONDS:g} s")
    samples = audio.samples[int(round(begin * SAMPLE_RATE)):int(round(stop * SAMPLE_RATE))]
    if float(np.max(np.abs(samples))) <= 10 ** (SILENCE_PEAK_DBFS / 20):
        raise AudioError(f"{audio.source}: the part to animate ({begin:.2f}-{stop:.2f} s) is silent")
    return replace(audio, samples=samples, offset=audio.offset + begin)


def resample(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mono samples at `rate` → SAMPLE_RATE."""
    if rate == SAMPLE_RATE:
        return samples.astype(np.float32)
    # An odd rate (22051 Hz) has no small exact ratio: the nearest small one is off by < 0.01 %, and
    # the result is cut or padded to the exact length so frame times stay true.
    ratio = Fraction(SAMPLE_RATE, rate).limit_denominator(1000)
    from scipy.signal import resample_poly  # late: it takes most of the model process's start

    out = resample_poly(samples, ratio.numerator, ratio.denominator)
    length = int(round(samples.shape[0] * SAMPLE_RATE / rate))
    out = np.pad(out[:length], (0, max(0, length - out.shape[0])))
    return np.clip(out, -1.0, 1.0).astype(np.float32)
