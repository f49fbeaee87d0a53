"""The training command end to end on a small real corpus, with a tiny network: weights, card, a model that runs."""

from __future__ import annotations

import json

import numpy as np

from model_server.audio.front_end import SpeechFrontEnd
from model_server.audio.loading import load_audio
from model_server.synthesis.learned import LearnedSynthesizer
from model_server.train.train_synthesis import main as train_main


def test_training_writes_loadable_weights_and_a_model_card(built_corpus, tmp_path, front_center_wav):
    config, _ = built_corpus
    out = tmp_path / "weights"
    train_main(["--corpus", str(config.out), "--out", str(out), "--tiny", "--steps-a", "6", "--steps-b", "6",
                "--steps-c", "6", "--batch", "2", "--prior-batch", "8", "--log-every", "3", "--seed", "5"])
    saved = json.loads((out / "config.json").read_text())
    assert saved["training"]["args"]["seed"] == 5 and saved["training"]["train_clips"] >= 1
    log = [json.loads(line) for line in (out / "training_log.jsonl").read_text().splitlines()]
    assert {e["stage"] for e in log} == {"A", "B", "C"} and all(np.isfinite(e["loss"]) for e in log)
    card = (out / "MODEL_CARD.md").read_text()
    assert "--seed 5" in card and "style_content.safetensors" in card and "typical_style.safetensors" in card and "Evaluation" in card

    model = LearnedSynthesizer.load(out)
    analysis = SpeechFrontEnd().analyze(load_audio(front_center_wav), "front center", 25.0)
    segments = [{"start": 0.0, "end": analysis.audio.duration, "instruction": "A slightly sad person speaks."}]
    motion = model.synthesize(analysis, segments, seed=1, fps=25.0, guidance=2.0)
    assert motion.arkit.shape == (len(analysis.prosody.loudness), 52)
    assert np.isfinite(motion.arkit).all() and 0 <= motion.arkit.min() and motion.arkit.max() <= 1


def test_stages_b_and_c_alone_keep_the_content_and_style_networks(built_corpus, tmp_path):
    from safetensors.numpy import load_file

    config, _ = built_corpus
    first, second = tmp_path / "first", tmp_path / "second"
    common = ["--corpus", str(config.out), "--tiny", "--steps-a", "4", "--steps-b", "4", "--steps-c", "4",
              "--batch", "2", "--prior-batch", "8", "--log-every", "2"]
    train_main(common + ["--out", str(first), "--seed", "1"])
    train_main(common + ["--out", str(second), "--seed", "2", "--stage-a-from", str(first)])
    kept, trained = load_file(second / "style_content.safetensors"), load_file(first / "style_content.safetensors")
    assert kept.keys() == trained.keys() and all(np.array_equal(kept[k], trained[k]) for k in kept)
    stages = [json.loads(line)["stage"] for line in (second / "training_log.jsonl").read_text().splitlines()]
    assert stages.count("A") == 2 and "B" in stages and "C" in stages  # stage A's lines come from the first run
