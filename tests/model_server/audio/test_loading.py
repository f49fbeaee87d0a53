"""Loading real and broken audio files."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
import soundfile

from model_server.audio.loading import load_audio
from model_server.audio.types import SAMPLE_RATE
from model_server.errors import AudioError


def test_real_recording_is_resampled_to_16k_mono_with_its_duration(front_center_wav):
    info = soundfile.info(str(front_center_wav))
    audio = load_audio(front_center_wav)
    assert audio.source_sample_rate == info.samplerate == 48000
    assert audio.samples.ndim == 1 and audio.samples.dtype == np.float32
    assert abs(audio.duration - info.duration) < 1e-3
    assert len(audio.samples) == pytest.approx(info.duration * SAMPLE_RATE, abs=2)


def test_stereo_is_mixed_down(tmp_path):
    t = np.arange(22050) / 22050
    left, right = np.sin(2 * np.pi * 220 * t), np.zeros_like(t)
    soundfile.write(tmp_path / "stereo.flac", np.stack([left, right], 1) * 0.5, 22050)
    audio = load_audio(tmp_path / "stereo.flac")
    assert abs(audio.duration - 1.0) < 1e-3
    assert np.max(np.abs(audio.samples)) == pytest.approx(0.25, abs=0.02)  # half of one channel


def test_bytes_upload_decodes(front_center_wav):
    audio = load_audio(front_center_wav.read_bytes(), filename="fc.wav")
    assert audio.source == "fc.wav" and audio.duration > 1.0


@pytest.mark.parametrize("content, fragment", [
    (b"", "empty"),
    (b"RIFF\x24\x00\x00\x00WAVEfmt garbage", "cannot decode"),
    (b"ID3\x03\x00\x00\x00\x00\x00\x00 this is not an mp3", "cannot decode"),
])
def test_broken_files_are_refused_with_their_name(tmp_path, content, fragment):
    path = tmp_path / "line_042.wav"
    path.write_bytes(content)
    with pytest.raises(AudioError, match=fragment) as err:
        load_audio(path)
    assert "line_042.wav" in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(AudioError, match="no such audio file"):
        load_audio(tmp_path / "nope.wav")


def test_silent_and_too_short_audio_are_refused(tmp_path):
    soundfile.write(tmp_path / "silent.wav", np.zeros(16000), 16000)
    with pytest.raises(AudioError, match="silent"):
        load_audio(tmp_path / "silent.wav")
    soundfile.write(tmp_path / "short.wav", np.full(800, 0.5), 16000)
    with pytest.raises(AudioError, match="too short"):
        load_audio(tmp_path / "short.wav")


def test_two_hour_file_is_refused_from_its_header_without_decoding(tmp_path):
    path = tmp_path / "two_hours.flac"  # FLAC of silence: tiny on disk, two hours in its header
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", str(path), "trim", "0", "7200"], check=True)
    assert path.stat().st_size < 5_000_000
    with pytest.raises(AudioError, match=r"120\.0 min is longer than the limit of 30 min"):
        load_audio(path, max_seconds=1800)


def test_long_real_file_is_refused_at_a_lower_limit(long_speech_wav):
    with pytest.raises(AudioError, match="longer than the limit"):
        load_audio(long_speech_wav, max_seconds=60)


def test_mp3_and_ogg_decode(tmp_path, front_center_wav):
    for suffix in ("ogg", "mp3"):
        out = tmp_path / f"fc.{suffix}"
        done = subprocess.run(["sox", str(front_center_wav), str(out)], capture_output=True)
        if done.returncode != 0:  # sox without that codec: encode through libsndfile instead
            data, rate = soundfile.read(front_center_wav)
            soundfile.write(out, data, rate)
        audio = load_audio(out)
        assert 1.2 < audio.duration < 1.7


def m4a_of(wav, out):
    """The recording as AAC in an M4A (what phones and many editors hand over), by ffmpeg."""
    done = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(wav), "-c:a", "aac", "-b:a", "64k",
                           str(out)], capture_output=True)
    assert done.returncode == 0, done.stderr[-500:]
    return out


def test_m4a_aac_decodes_through_ffmpeg_file_and_upload(tmp_path, front_center_wav):
    reference = load_audio(front_center_wav)
    out = m4a_of(front_center_wav, tmp_path / "fc.m4a")
    for source in (out, out.read_bytes()):
        audio = load_audio(source, filename="fc.m4a")
        assert abs(audio.duration - reference.duration) < 0.06  # AAC's priming samples at most
        n = min(len(audio.samples), len(reference.samples))
        lag = int(np.argmax(np.correlate(audio.samples[:n], reference.samples[:n], "full"))) - (n - 1)
        assert abs(lag) < 0.05 * SAMPLE_RATE  # the same speech, in time


def test_a_playlist_is_not_followed(tmp_path, front_center_wav):
    playlist = tmp_path / "list.m3u8"
    playlist.write_text(f"#EXTM3U\n#EXTINF:1,\n{front_center_wav}\n")
    with pytest.raises(AudioError, match="cannot decode"):
        load_audio(playlist)


def test_trimmed_keeps_the_part_to_animate_and_where_it_began(front_center_wav):
    from model_server.audio.loading import trimmed

    audio = load_audio(front_center_wav)
    part = trimmed(audio, 0.5, 1.1)
    assert part.offset == pytest.approx(0.5) and part.duration == pytest.approx(0.6, abs=1e-4)
    np.testing.assert_array_equal(part.samples, audio.samples[8000:17600])
    assert trimmed(audio, None, None) is audio
    assert trimmed(audio, 0.5, 99.0).duration == pytest.approx(audio.duration - 0.5, abs=1e-4)  # clipped to the file


@pytest.mark.parametrize("start, end, fragment", [
    (5.0, 6.0, "after the audio ends"), (0.5, 0.55, "shorter than"), (-1.0, None, "0 s or later"),
])
def test_trimmed_refuses_parts_that_cannot_be_animated(front_center_wav, start, end, fragment):
    from model_server.audio.loading import trimmed

    with pytest.raises(AudioError, match=fragment):
        trimmed(load_audio(front_center_wav), start, end)


@pytest.mark.parametrize("rate", [4000, 8000, 11025, 22050, 22051, 44100, 48000, 96000, 192000, 768000])
def test_every_rate_a_recording_uses_resamples_to_the_exact_length(tmp_path, rate):
    path = tmp_path / f"tone{rate}.wav"
    seconds = 0.73
    times = np.arange(int(seconds * rate)) / rate
    soundfile.write(str(path), (0.3 * np.sin(2 * np.pi * 440 * times)).astype(np.float32), rate, subtype="FLOAT")
    audio = load_audio(path)
    assert len(audio.samples) == round(int(seconds * rate) * 16000 / rate)
    assert audio.source_sample_rate == rate and np.isfinite(audio.samples).all()


@pytest.mark.parametrize("rate", [1000, 3999, 768001, 24_000_000, 32_000_000])
def test_rates_no_recording_uses_are_refused_from_the_header(tmp_path, rate):
    path = tmp_path / f"odd{rate}.wav"
    soundfile.write(str(path), np.random.default_rng(0).normal(0, 0.1, max(rate // 5, 1000)).astype(np.float32),
                    rate, subtype="PCM_16")
    with pytest.raises(AudioError, match=f"{rate} Hz is not a speech recording"):
        load_audio(path)


def test_non_numbers_in_float_samples_are_refused(tmp_path, front_center_wav):
    samples, rate = soundfile.read(str(front_center_wav), dtype="float32")
    samples[1000] = np.nan
    path = tmp_path / "damaged.wav"
    soundfile.write(str(path), samples, rate, subtype="FLOAT")
    with pytest.raises(AudioError, match="1 samples are not numbers"):
        load_audio(path)


def tone_bomb(path, channels: int = 8, rate: int = 655_350, seconds: float = 1.0):
    """A constant tone in many channels at a huge rate: FLAC compresses it to almost nothing."""
    t = np.arange(int(rate * seconds), dtype=np.float32) / rate
    tone = (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    soundfile.write(str(path), np.repeat(tone[:, None], channels, axis=1), rate, format="FLAC")
    return path


def test_a_file_that_decodes_far_beyond_its_size_is_refused_from_its_header(tmp_path):
    bomb = tone_bomb(tmp_path / "bomb.flac")
    assert bomb.stat().st_size < 2_000_000  # small on disk …
    with pytest.raises(AudioError, match="8 channels at 655350 Hz .* million samples"):
        load_audio(bomb, max_seconds=5.0)  # … 5.2 million samples, where 5 s of stereo 48 kHz is 0.48 million
    with pytest.raises(AudioError, match="million samples"):
        load_audio(bomb.read_bytes(), filename="bomb.flac", max_seconds=5.0)
    assert load_audio(bomb, max_seconds=60.0).duration == pytest.approx(1.0, abs=0.01)  # within the budget: fine
