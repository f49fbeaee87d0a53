"""Low-rank adapters on the agent's language model: trained separately, merged for generation."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file

from model_server.agent.language_model import load_inference_model, load_language_model
from model_server.agent.lora import LoraSettings, add_lora, merge_lora, save_lora
from model_server.agent.plain_llama import KeyValueCache, causal_attend
from model_server.agent.qformer_agent import position_ids, target_loss
from model_server.errors import InputError


def plain_logits(lm, ids: torch.Tensor) -> torch.Tensor:
    positions = torch.arange(ids.shape[1])[None]
    return lm.logits(lm.hidden_states(lm.embed(ids), positions, causal_attend(torch.ones_like(ids), ids.shape[1]),
                                      KeyValueCache()))


def test_merged_adapters_give_the_trained_models_outputs(tiny_lm_dir, tmp_path):
    """peft's model with trained adapters, and the plain model (what the agent writes with) with the saved
    adapters merged into its weights: the same logits."""
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

    plain, _ = load_inference_model(tiny_lm_dir)
    before = plain_logits(plain, ids)
    merge_lora(plain, LoraSettings(rank=4, alpha=8).to_dict(), tmp_path)
    after = plain_logits(plain, ids)
    assert torch.allclose(after, expected, atol=1e-5) and not torch.allclose(before, expected, atol=1e-3)


def test_adapters_for_projections_the_model_lacks_are_refused(tiny_lm_dir, tmp_path):
    plain, _ = load_inference_model(tiny_lm_dir)
    save_file({"base_model.model.model.layers.7.self_attn.q_proj.lora_A.weight": torch.zeros(4, 32),
               "base_model.model.model.layers.7.self_attn.q_proj.lora_B.weight": torch.zeros(32, 4)},
              tmp_path / "lora.safetensors")
    with pytest.raises(InputError, match="1 projections; 0 of them"):
        merge_lora(plain, LoraSettings(rank=4, alpha=8).to_dict(), tmp_path)


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
