"""Recording-condition augmentation keeps the clip's length and hits the asked signal-to-noise ratio."""

from __future__ import annotations

import numpy as np

from model_server.train.augment import Augmentation, apply_augmentation, noise_at_snr, sample_augmentation


def _tone(seconds=1.5, rate=16000):
    t = np.arange(int(seconds * rate)) / rate
    envelope = (np.sin(2 * np.pi * 2 * t) > 0).astype(np.float32)  # speech-like on/off
    return (0.3 * np.sin(2 * np.pi * 220 * t) * envelope).astype(np.float32)


def test_every_effect_keeps_the_length_and_is_repeatable():
    speech = _tone()
    full = Augmentation(pitch_cents=-250, reverb=(50, 50, 80), band=(300, 3400), snr_db=15, noise_color="pink",
                        gain_db=-3)
    for augmentation in (full, Augmentation(), sample_augmentation(np.random.default_rng(4))):
        a = apply_augmentation(speech, augmentation, np.random.default_rng(0))
        b = apply_augmentation(speech, augmentation, np.random.default_rng(0))
        assert a.shape == speech.shape and a.dtype == np.float32
        assert np.array_equal(a, b)
        assert np.max(np.abs(a)) <= 1.0


def test_noise_level_matches_the_snr_over_speech():
    speech = _tone()
    noise = noise_at_snr(speech, 20.0, "white", np.random.default_rng(0))
    loud = speech[np.abs(speech) > 0]
    snr = 10 * np.log10(np.mean(loud ** 2) / np.mean(noise ** 2))
    assert abs(snr - 20.0) < 1.5
