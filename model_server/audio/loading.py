"""Read speech files into 16 kHz mono float32, refusing what cannot be animated with a clear message."""

from __future__ import annotations

import io
import math
import shutil
import subprocess
import tempfile
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
DECODED_RATE_BUDGET = 48_000  # decoded samples per second of the length limit, per channel of stereo


def load_audio(source: str | Path | bytes, *, filename: str = "<upload>", max_seconds: float = 1800.0) -> Audio:
    """Decode WAV/FLAC/OGG/MP3 (anything libsndfile reads; M4A/AAC and other containers through ffmpeg where it
    is installed), mix to mono and resample to 16 kHz."""
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
            # A small file can decode to gigabytes (8 channels of a tone at 655 kHz compress to nothing):
            # the header's samples × channels must fit what a stereo 48 kHz file at the length limit holds.
            budget = decoded_budget(max_seconds)
            if sound.frames * sound.channels > budget:
                raise AudioError(
                    f"{name}: {sound.channels} channels at {source_rate} Hz for {sound.frames / source_rate:.0f} s "
                    f"decode to {sound.frames * sound.channels / 1e6:.0f} million samples, more than the "
                    f"{budget / 1e6:.0f} million allowed; export it as mono or stereo at 48 kHz or less")
            samples = _mono_blocks(sound, budget, name)
    except AudioError:
        raise
    except soundfile.LibsndfileError as exc:  # its own words, without the file object's repr or path
        decoded = decode_with_ffmpeg(source, name, max_seconds)  # M4A/AAC, and whatever else Blender plays
        if decoded is not None:
            return decoded
        reason = exc.error_string.strip().rstrip(".") or "not a format libsndfile reads"
        raise AudioError(f"{name}: cannot decode audio ({reason}); use WAV, FLAC, OGG or MP3"
                         f"{'' if shutil.which('ffmpeg') else ', or install ffmpeg for M4A/AAC'}") from exc
    except (RuntimeError, TypeError, ValueError, MemoryError, OSError) as exc:
        raise AudioError(f"{name}: cannot decode audio (the file is damaged or not audio); "
                         f"use WAV, FLAC, OGG or MP3") from exc

    return _checked(samples, source_rate, name, max_seconds)


def decoded_budget(max_seconds: float) -> int:
    """Samples × channels a file may decode to: a stereo 48 kHz file at the length limit."""
    return int(max_seconds * DECODED_RATE_BUDGET * 2)


def _mono_blocks(sound, budget: int, name: str) -> np.ndarray:
    """(n, 1) float32 mixed down block by block, so memory holds one channel, not all of them; a file whose
    header gave no length (a stream) stops at the budget."""
    parts, total = [], 0
    for block in sound.blocks(blocksize=1 << 16, dtype="float32", always_2d=True):
        total += block.size
        if total > budget:
            raise AudioError(f"{name}: the audio decodes to more than {budget / 1e6:.0f} million samples; export it "
                             "as mono or stereo at 48 kHz or less")
        parts.append(block.mean(axis=1, dtype=np.float32))
    return (np.concatenate(parts) if parts else np.zeros(0, np.float32)).reshape(-1, 1)


def _checked(samples: np.ndarray, source_rate: int, name: str, max_seconds: float) -> Audio:
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


# Containers ffmpeg may open for audio: the ones libsndfile lacks (MP4/M4A/AAC, Matroska/WebM, ASF, AMR, CAF)
# and the common ones. No playlists or concat lists (they name other files), and no protocol but `file`.
FFMPEG_FORMATS = "mov,mp4,m4a,3gp,3g2,mj2,aac,matroska,webm,asf,amr,caf,wav,mp3,ogg,flac,aiff"
FFMPEG_TIMEOUT_S = 120


def decode_with_ffmpeg(source: str | Path | bytes, name: str, max_seconds: float) -> Audio | None:
    """16 kHz mono float32 decoded by ffmpeg (what Blender itself plays M4A and AAC with), or None without
    ffmpeg or where it cannot decode the file either. At most max_seconds + 1 s is decoded."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        if isinstance(source, (bytes, bytearray)):  # MP4's index may sit at the end: a file, not a pipe
            path = Path(folder) / "upload"
            path.write_bytes(source)
        else:
            path = Path(source)
        command = [ffmpeg, "-nostdin", "-v", "error", "-protocol_whitelist", "file", "-format_whitelist",
                   FFMPEG_FORMATS, "-i", f"file:{path}", "-t", f"{max_seconds + 1:.1f}", "-vn", "-ac", "1",
                   "-ar", str(SAMPLE_RATE), "-f", "f32le", "pipe:1"]
        try:
            done = subprocess.run(command, capture_output=True, timeout=FFMPEG_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired as exc:
            raise AudioError(f"{name}: decoding took longer than {FFMPEG_TIMEOUT_S} s; convert it to WAV") from exc
    if done.returncode != 0 or len(done.stdout) < 4:
        return None
    samples = np.frombuffer(done.stdout[:len(done.stdout) // 4 * 4], dtype="<f4").reshape(-1, 1)
    return _checked(samples, SAMPLE_RATE, name, max_seconds)


AUDIO_MAGIC = (b"RIFF", b"RIFX", b"RF64", b"fLaC", b"OggS", b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2",
               b"\xff\xf1", b"\xff\xf9", b"FORM", b".snd", b"caff", b"\x1a\x45\xdf\xa3", b"#!AMR",
               b"\x30\x26\xb2\x75")


def check_audio_header(path: Path) -> None:
    """Refuse, from its first bytes, a file that is no audio container (a disk image, a sparse file of
    zeros): WAV, FLAC, OGG, MP3, AIFF, AU, CAF, Matroska/WebM, AMR, ASF, MP4/M4A."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(12)
    except OSError as exc:
        raise AudioError(f"{path.name[:80]}: cannot open this file ({path_problem(exc)})") from exc
    if not head:
        raise AudioError(f"{path.name[:80]}: the audio file is empty (0 bytes)")
    if head.startswith(AUDIO_MAGIC) or head[4:8] == b"ftyp":  # MP4 and M4A: a box named ftyp first
        return
    raise AudioError(f"{path.name[:80]}: not an audio file (its first bytes are no WAV, FLAC, OGG, MP3, M4A or "
                     "other audio header)")


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
