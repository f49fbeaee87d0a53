"""The training command end to end on a small real corpus, with a tiny network: weights, card, a model that runs."""

from __future__ import annotations

import json

import numpy as np

from model_server.audio.front_end import SpeechFrontEnd
from model_server.audio.loading import load_audio
from model_server.synthesis.learned import LearnedSynthesizer
from model_server.eval.geometry import reference_head_geometry
from model_server.train.train_synthesis import lip_vertex_loss, lip_vertex_metric, main as train_main


def test_training_writes_loadable_weights_and_a_model_card(built_corpus, tmp_path, front_center_wav):
    config, _ = built_corpus
    out = tmp_path / "weights"
    train_main(["--corpus", str(config.out), "--out", str(out), "--tiny", "--steps-a", "6", "--steps-b", "6",
                "--steps-a2", "3", "--steps-c", "6", "--steps-d", "6", "--batch", "2", "--prior-batch", "8", "--log-every", "3", "--seed", "5"])
    saved = json.loads((out / "config.json").read_text())
    assert saved["training"]["args"]["seed"] == 5 and saved["training"]["train_clips"] >= 1
    log = [json.loads(line) for line in (out / "training_log.jsonl").read_text().splitlines()]
    assert {e["stage"] for e in log} == {"A", "A2", "B", "C", "D"} and all(np.isfinite(e["loss"]) for e in log)
    card = (out / "MODEL_CARD.md").read_text()
    assert "--seed 5" in card and "--steps-a2 3" in card and "--steps-d 6" in card and "stage D" in card and "style_content.safetensors" in card and "typical_style.safetensors" in card and "Evaluation" in card

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
              "--steps-a2", "2", "--steps-d", "2", "--batch", "2", "--prior-batch", "8", "--log-every", "2"]
    train_main(common + ["--out", str(first), "--seed", "1"])
    train_main(common + ["--out", str(second), "--seed", "2", "--stage-a-from", str(first)])
    kept, trained = load_file(second / "style_content.safetensors"), load_file(first / "style_content.safetensors")
    assert kept.keys() == trained.keys() and all(np.array_equal(kept[k], trained[k]) for k in kept)
    stages = [json.loads(line)["stage"] for line in (second / "training_log.jsonl").read_text().splitlines()]
    # Stage A's and A2's lines come from the first run: A2 is not run twice on the same networks.
    assert stages.count("A") == 2 and stages.count("A2") == 1 and {"B", "C", "D"} <= set(stages)


def test_lip_vertex_loss_is_the_mean_squared_lip_vertex_distance_in_mm2():
    import torch

    geometry = reference_head_geometry()
    rng = np.random.default_rng(0)
    pred, truth = rng.uniform(0, 1, (2, 7, 52)).astype(np.float32)
    moved = geometry.vertices(pred, geometry.lip_vertices) - geometry.vertices(truth, geometry.lip_vertices)
    expected = np.mean(np.sum(moved ** 2, axis=2)) * 1e6
    loss = lip_vertex_loss(torch.from_numpy(pred)[None], torch.from_numpy(truth)[None], torch.ones(1, 7),
                           lip_vertex_metric(geometry))
    assert abs(loss.item() - expected) < 1e-3 * expected
    # Masked frames do not count.
    mask = torch.zeros(1, 7)
    mask[0, 2] = 1.0
    one = lip_vertex_loss(torch.from_numpy(pred)[None], torch.from_numpy(truth)[None], mask, lip_vertex_metric(geometry))
    assert abs(one.item() - np.mean(np.sum(moved[2] ** 2, axis=1)) * 1e6) < 1e-3 * one.item()
