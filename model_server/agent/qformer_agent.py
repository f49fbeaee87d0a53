"""The learned instruction agent (AVI-Talking stage 1): speech → Q-Former soft prompt → language model.

For each speech segment the Q-Former turns the segment's frame features into K soft-prompt tokens;
the language model reads them, then a text prompt with the transcript, and writes the instruction
(grammar_decoding: the opening emotion and intensity chosen from the probabilities of all the grammar's
openings, the rest greedily). How the words were spoken reaches the language model only through the soft
prompt. Whatever it writes is parsed by the grammar and written back in canonical form, so the rest of the
pipeline always receives a grammatical instruction.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from ..audio.prosody import prosody_at
from ..audio.types import SpeechAnalysis, SpeechSegment
from ..errors import InputError
from .baseline import whole_clip_segment
from .agent_files import ADAPTER_FILE, CONFIG_FILE, check_agent_files
from .grammar import format_instruction, parse_instruction
from .grammar_decoding import GrammarDecoder
from .language_model import DEFAULT_LM_NAME, inference_dtype, load_inference_model
from .lora import merge_lora
from .qformer import SpeechQFormer, SpeechQFormerConfig
from .replies import clip_instructions, nothing_spoken, reply_targets
from .speech_features import agent_speech_features

FEATURE_FPS = 25.0
MAX_INSTRUCTION_TOKENS = 64


def text_prompt(transcript: str) -> str:
    """What follows the soft prompt; the instruction is written after it."""
    words = transcript.strip() or "(no words recognised)"
    return f'Transcript: "{words}"\nFacial instruction:'


def embedding_scale(lm) -> float:
    """Median norm of the language model's token embeddings: soft tokens are scaled to match it."""
    return float(lm.get_input_embeddings().weight.detach().norm(dim=-1).median())


def prompt_row(lm, tokenizer, soft: torch.Tensor, prompt: str, target: str | None = None) -> tuple[torch.Tensor, list[int]]:
    """One row's input embeddings, [K soft tokens][prompt tokens][target tokens, eos], and its labels
    (-100 where nothing is predicted)."""
    embed = lm.get_input_embeddings()
    prompt_ids = tokenizer(prompt, add_special_tokens=False).input_ids
    target_ids = [] if target is None else tokenizer(" " + target, add_special_tokens=False).input_ids + [tokenizer.eos_token_id]
    ids = torch.tensor(prompt_ids + target_ids, device=soft.device)
    return torch.cat([soft.to(embed.weight.dtype), embed(ids)]), [-100] * (len(soft) + len(prompt_ids)) + target_ids


def lm_inputs(adapter: SpeechQFormer, lm, tokenizer, features: torch.Tensor, mask: torch.Tensor, prompts: list[str],
              targets: list[str] | None = None, scale: float = 1.0):
    """Input embeddings, attention mask and (with targets) labels for a batch:
    [K soft tokens][prompt tokens][target tokens, eos][padding]. Returns the Q-Former states too."""
    states = adapter.query_states(features, mask)
    soft = adapter.soft_prompt(states, scale)  # (B, K, H)
    made = [prompt_row(lm, tokenizer, soft[i], prompt, None if targets is None else targets[i])
            for i, prompt in enumerate(prompts)]
    rows, labels = [row for row, _ in made], [label for _, label in made]
    # Left padding: generation continues from the last position of every row.
    width = max(len(r) for r in rows)
    pad = lm.get_input_embeddings()(torch.tensor([tokenizer.pad_token_id], device=soft.device))[0]
    inputs = torch.stack([torch.cat([pad.expand(width - len(r), -1), r]) for r in rows])
    attention = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows], device=soft.device)
    label_tensor = torch.tensor([[-100] * (width - len(l)) + l for l in labels], device=soft.device)
    return inputs, attention, (label_tensor if targets is not None else None), states


def speech_states(adapter: SpeechQFormer, slices: list[np.ndarray]) -> list[torch.Tensor]:
    """Each slice's Q-Former states (K, width), as one batch padded to the longest slice gives them, for a
    fraction of the frames: the longest slices form one batch, the rest another, padded past their own
    longest by the speech encoder's reach, so every shorter row still sees padding after its end. A clip's
    segments are seconds each and the whole clip is one more row: one batch would pad every segment to it."""
    longest = max(len(s) for s in slices)
    groups = [[i for i, s in enumerate(slices) if len(s) == longest], [i for i, s in enumerate(slices) if len(s) < longest]]
    states: list[torch.Tensor | None] = [None] * len(slices)
    for group in filter(None, groups):
        extra = 0 if len(slices[group[0]]) == longest else adapter.speech.reach
        batch, mask = pad_frames([slices[i] for i in group], extra)
        for i, row in zip(group, adapter.query_states(batch, mask)):
            states[i] = row
    return states


def position_ids(attention: torch.Tensor) -> torch.Tensor:
    """Positions counted from each row's first real token, as generate() counts them under left padding."""
    return (attention.long().cumsum(-1) - 1).clamp(min=0)


def target_loss(lm, inputs: torch.Tensor, attention: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The language-model loss of the target tokens. The vocabulary projection is applied only where a
    target token is predicted: with a 49k vocabulary it costs as much as the rest of a 135M model."""
    hidden = lm.get_decoder()(inputs_embeds=inputs, attention_mask=attention,
                              position_ids=position_ids(attention)).last_hidden_state
    predicted = labels[:, 1:] != -100
    logits = lm.get_output_embeddings()(hidden[:, :-1][predicted])
    return torch.nn.functional.cross_entropy(logits.float(), labels[:, 1:][predicted])


def save_agent(out: Path, adapter: SpeechQFormer, lm_info: dict, training: dict, log: list[dict],
               lora: dict | None = None) -> None:
    """The Q-Former and its config; `lora` (the adapters' settings) when lora.safetensors is saved beside it."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in adapter.state_dict().items()}, out / ADAPTER_FILE)
    config = {"qformer": adapter.cfg.to_dict(), "language_model": lm_info, "lora": lora, "fps": FEATURE_FPS,
              "training": training}
    (out / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
    (out / "training_log.jsonl").write_text("".join(json.dumps(e) + "\n" for e in log))


def load_adapter(weights_dir: Path, config: dict, plain: bool = False) -> SpeechQFormer:
    """The Q-Former saved in weights_dir, built from its config.json (`config`); `plain` for inference only
    (SpeechQFormer)."""
    adapter = SpeechQFormer(SpeechQFormerConfig.from_dict(config["qformer"]), plain=plain)
    adapter.load_state_dict(load_file(Path(weights_dir) / ADAPTER_FILE))
    return adapter


def language_model_info(lm, tokenizer, path: Path | None) -> dict:
    """What an adapter must match in a language model (checked when it is loaded with another one)."""
    return {"path": None if path is None else str(path), "name": DEFAULT_LM_NAME if path is None else Path(path).name,
            "hidden_size": lm.config.hidden_size, "vocab_size": len(tokenizer), "embedding_scale": embedding_scale(lm)}


class QFormerInstructionAgent:
    name = "avi-talking-stage1"

    def __init__(self, adapter: SpeechQFormer, lm, tokenizer, info: dict, continuation_dtype: torch.dtype | None = None) -> None:
        """`lm` reads the prompt and scores the openings in its own dtype; with `continuation_dtype` a copy
        in that dtype writes the rest of each reply (grammar_decoding)."""
        self.adapter = adapter.eval()
        self.lm = lm
        self.tokenizer = tokenizer
        continuation = None if continuation_dtype in (None, lm.dtype) else lm.to(continuation_dtype)
        self.decoder = GrammarDecoder(self.lm, tokenizer, MAX_INSTRUCTION_TOKENS, continuation)
        self.head_rule = self.decoder.default_rule  # how the opening is chosen (grammar_decoding); evaluate_agent --head-rule sets it
        self.info = info
        self.scale = float(info["language_model"]["embedding_scale"])
        self.last_replies: list[str] = []

    @classmethod
    def load(cls, weights_dir: Path, lm_path: Path | None = None, dtype: str | None = None) -> "QFormerInstructionAgent":
        """The adapter in weights_dir on its language model (its low-rank adapters merged). The model reads
        the prompts and scores the openings in float32; the rest of each reply is written by a copy in
        inference_dtype(dtype) when that is not float32 (the default; see inference_dtype)."""
        weights_dir = Path(weights_dir)
        check_agent_files(weights_dir, lm_path)
        config = json.loads((weights_dir / CONFIG_FILE).read_text())
        wanted = config["language_model"]
        lm, tokenizer = load_inference_model(lm_path if lm_path is not None else
                                             (Path(wanted["path"]) if wanted.get("path") else None))
        if lm.shape.hidden_size != wanted["hidden_size"] or len(tokenizer) != wanted["vocab_size"]:
            raise InputError(f"the agent in {weights_dir} was trained for a language model of width "
                             f"{wanted['hidden_size']} and {wanted['vocab_size']} tokens; this one has "
                             f"{lm.shape.hidden_size} and {len(tokenizer)}: train an adapter for it with "
                             "python -m model_server.train.train_agent --lm PATH")
        adapter = load_adapter(weights_dir, config, plain=True)
        if config.get("lora"):
            merge_lora(lm, config["lora"], weights_dir)
        return cls(adapter, lm, tokenizer, config, continuation_dtype=inference_dtype(dtype))

    def describe(self) -> dict:
        return {"name": self.name, "kind": "learned", "language_model": self.info["language_model"]["name"],
                "dtype": str(self.lm.dtype).removeprefix("torch."),
                "continuation_dtype": str(self.decoder.continuation_lm.dtype).removeprefix("torch.")}

    def instruct(self, analysis: SpeechAnalysis, on_reply=None) -> tuple[str, list[dict]]:
        """The whole clip's instruction and one per segment; `on_reply(done, total)` is called before each
        pass of the language model, with the replies finished so far (replies.py)."""
        whole = whole_clip_segment(analysis)
        if whole is None:
            return nothing_spoken(analysis)
        features = agent_speech_features(analysis.alignment.phones, prosody_at(analysis, FEATURE_FPS))
        # Kept as written, for the grammar-validity measure; the clip gets them in canonical form.
        self.last_replies = self.replies_for(features, reply_targets(analysis, whole), on_reply)
        return clip_instructions(analysis, [format_instruction(parse_instruction(reply)) for reply in self.last_replies])

    @torch.inference_mode()
    def replies_for(self, features: np.ndarray, segments: list[SpeechSegment], on_reply=None) -> list[str]:
        """What the language model writes for each segment, as it wrote it: the Q-Former reads every
        segment in one batch, and the language model writes all replies together (grammar_decoding);
        `on_reply(done, total)` is called before each of its passes."""
        slices = [features[int(s.start * FEATURE_FPS):max(int(s.start * FEATURE_FPS) + 1, int(np.ceil(s.end * FEATURE_FPS)))]
                  for s in segments]
        soft = self.adapter.soft_prompt(torch.stack(speech_states(self.adapter, slices)), self.scale)
        prefixes = [prompt_row(self.lm, self.tokenizer, row, text_prompt(s.text))[0] for row, s in zip(soft, segments)]
        return [reply for reply, _ in self.decoder.write_many(prefixes, self.head_rule, on_pass=on_reply)]


def pad_frames(slices: list[np.ndarray], extra: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, T, F) zero-padded features and (B, T) mask of real frames; T is the longest slice plus `extra`."""
    frames = max(len(s) for s in slices) + extra
    batch = np.zeros((len(slices), frames, slices[0].shape[1]), np.float32)
    mask = np.zeros((len(slices), frames), np.float32)
    for i, s in enumerate(slices):
        batch[i, :len(s)], mask[i, :len(s)] = s, 1.0
    return torch.from_numpy(batch), torch.from_numpy(mask)
