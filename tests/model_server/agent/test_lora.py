"""Low-rank adapters on the agent's language model: trained separately, merged for generation."""

from __future__ import annotations

import torch

from model_server.agent.language_model import load_language_model
from model_server.agent.lora import LoraSettings, add_lora, merge_lora, save_lora
from model_server.agent.qformer_agent import position_ids, target_loss


def test_merged_adapters_give_the_trained_models_outputs(tiny_lm_dir, tmp_path):
    torch.manual_seed(0)
    lm, _ = load_language_model(tiny_lm_dir)
    peft_lm = add_lora(lm, LoraSettings(rank=4, alpha=8))
    trainable = [n for n, p in peft_lm.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    with torch.no_grad():  # trained adapters are not zero; fresh ones are (lora_B starts at 0)
        for name, parameter in peft_lm.named_parameters():
            if "lora_B" in name:
                parameter.normal_(0, 0.5)
    ids = torch.tensor([[3, 5, 7, 9, 11]])
    with torch.no_grad():
        expected = peft_lm(input_ids=ids).logits
    save_lora(tmp_path, peft_lm)

    plain, _ = load_language_model(tiny_lm_dir)
    with torch.no_grad():
        before = plain(input_ids=ids).logits
        merged = merge_lora(plain, LoraSettings(rank=4, alpha=8).to_dict(), tmp_path)
        after = merged(input_ids=ids).logits
    assert not any("lora_" in n for n, _ in merged.named_parameters())  # a plain model again
    assert torch.allclose(after, expected, atol=1e-5) and not torch.allclose(before, expected, atol=1e-3)


def test_target_loss_is_the_language_model_loss_and_ignores_left_padding(tiny_lm_dir):
    torch.manual_seed(0)
    lm, _ = load_language_model(tiny_lm_dir)
    embed = lm.get_input_embeddings()
    ids = torch.tensor([[4, 6, 8, 10, 12, 14]])
    labels = torch.tensor([[-100, -100, -100, 10, 12, 14]])
    attention = torch.ones_like(ids)
    with torch.no_grad():
        reference = lm(input_ids=ids, attention_mask=attention, labels=labels).loss
        ours = target_loss(lm, embed(ids), attention, labels)
        padded = torch.cat([torch.zeros(1, 3, dtype=torch.long), ids], 1)
        padded_attention = torch.cat([torch.zeros(1, 3, dtype=torch.long), attention], 1)
        padded_labels = torch.cat([torch.full((1, 3), -100), labels], 1)
        shifted = target_loss(lm, embed(padded), padded_attention, padded_labels)
    assert torch.allclose(ours, reference, atol=1e-5)
    assert torch.allclose(shifted, reference, atol=1e-4)  # left padding changes nothing
    assert position_ids(padded_attention).tolist() == [[0, 0, 0, 0, 1, 2, 3, 4, 5]]
