"""The synthetic corpus, built for real (espeak-ng, sox, pocketsphinx) at a few clips."""

from __future__ import annotations

import json

import numpy as np
import pytest

from model_server.agent.grammar import parse_instruction
from model_server.arkit import ARKIT_INDEX, ARKIT_NAMES
from model_server.curves import num_frames_for
from model_server.synthesis.content_features import NUM_CONTENT_FEATURES
from model_server.synthesis.metrics import lip_aperture
from model_server.train.corpus import build_corpus, read_records
from model_server.train.sentences import load_sentence_bank, speakable, pronouncing_words
from model_server.train.voices import HELD_OUT_ACCENTS, HELD_OUT_VARIANTS, voices_for

from tests.tiny_models import CORPUS_CLIPS as CLIPS, CORPUS_TEST_FRACTION as TEST_FRACTION
UPPER_FACE = [i for i, n in enumerate(ARKIT_NAMES) if n.startswith(("brow", "eye", "cheekSquint", "noseSneer"))]


@pytest.fixture(scope="module")
def corpus(built_corpus):
    config, summary = built_corpus
    out = config.out
    records = read_records(out / "clips")
    arrays = {r["id"]: dict(np.load(out / "clips" / f"{r['id']}.npz")) for r in records}
    return config, summary, records, arrays


def test_builds_the_clips_with_both_splits(corpus):
    config, summary, records, _ = corpus
    assert len(records) >= CLIPS - 1  # a clip may be skipped, never the build
    assert {r["split"] for r in records} == {"train", "test"}
    manifest = [json.loads(line) for line in (config.out / "manifest.jsonl").read_text().splitlines()]
    assert [r["id"] for r in manifest] == [r["id"] for r in records]
    recipe = json.loads((config.out / "recipe.json").read_text())
    assert recipe["counts"]["clips"] == len(records) and recipe["args"]["seed"] == 3


def test_every_array_has_one_frame_per_25th_of_a_second(corpus):
    _, _, records, arrays = corpus
    for r in records:
        frames = num_frames_for(r["duration"], 25.0)
        a = arrays[r["id"]]
        assert r["frames"] == frames
        assert a["content"].shape == (frames, NUM_CONTENT_FEATURES) and a["content"].dtype == np.float32
        assert a["motion"].shape == a["motion_cross"].shape == (frames, 52)
        assert a["motion"].dtype == np.float32
        if r["split"] == "test":
            assert a["audio"].dtype == np.int16 and abs(len(a["audio"]) / 16000 - r["duration"]) < 1e-3
        else:
            assert "audio" not in a


def test_lips_close_at_the_bilabials_of_the_clean_alignment(corpus):
    _, _, records, arrays = corpus
    checked = 0
    for r in records:
        aperture = lip_aperture(arrays[r["id"]]["motion"])
        for phone, start, end in r["phones"]:
            if phone in ("P", "B", "M") and end - start >= 0.04:
                frame = int(round((start + end) / 2 * 25.0))
                assert aperture[frame] < 0.05, (r["id"], phone, start)
                checked += 1
    assert checked > 0


def test_cross_style_motion_keeps_the_timing_and_changes_the_upper_face(corpus):
    _, _, records, arrays = corpus
    for r in records:
        a = arrays[r["id"]]
        jaw, jaw_cross = a["motion"][:, ARKIT_INDEX["jawOpen"]], a["motion_cross"][:, ARKIT_INDEX["jawOpen"]]
        assert np.corrcoef(jaw, jaw_cross)[0, 1] >= 0.9
        if r["emotion"] != r["partner_emotion"]:
            difference = np.abs(a["motion"][:, UPPER_FACE] - a["motion_cross"][:, UPPER_FACE]).max()
            assert difference > 0.03, (r["emotion"], r["partner_emotion"])


def test_instructions_parse_to_the_sampled_emotions(corpus):
    _, _, records, _ = corpus
    for r in records:
        for prefix in ("", "partner_"):
            parsed = parse_instruction(r[f"{prefix}instruction"])
            assert (parsed.emotion, parsed.intensity) == (r[f"{prefix}emotion"], r[f"{prefix}intensity"])


def test_test_clips_use_held_out_voices_and_test_sentences(corpus):
    _, _, records, _ = corpus
    bank = load_sentence_bank(TEST_FRACTION)
    assert not set(bank.train) & set(bank.test)
    train_voices, test_voices = {v.name for v in voices_for("train")}, {v.name for v in voices_for("test")}
    assert train_voices and test_voices and not train_voices & test_voices
    for r in records:
        assert r["voice"] in (test_voices if r["split"] == "test" else train_voices)
        assert r["sentence"] in (bank.test if r["split"] == "test" else bank.train)
        held_out = r["accent"] in HELD_OUT_ACCENTS or r["variant"] in HELD_OUT_VARIANTS
        assert held_out == (r["split"] == "test")


def test_rerun_skips_finished_clips(corpus):
    config, _, records, _ = corpus
    stamps = {p.name: p.stat().st_mtime_ns for p in (config.out / "clips").glob("*.npz")}
    summary = build_corpus(config, log=lambda line: None)
    assert summary["counts"]["built_this_run"] == 0
    assert {p.name: p.stat().st_mtime_ns for p in (config.out / "clips").glob("*.npz")} == stamps
    assert len(read_records(config.out / "clips")) == len(records)


def test_sentences_are_plain_known_words():
    vocabulary = pronouncing_words()
    assert speakable("Never go to a doctor whose office plants have died.", vocabulary)
    assert not speakable("Buy 3 apples.", vocabulary)  # digits are read unpredictably
    assert not speakable("Too short here.", vocabulary)
    assert not speakable("The NASA budget was cut again today.", vocabulary)  # spelled out by espeak
