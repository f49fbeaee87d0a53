"""The language model's tokenizer read with the `tokenizers` library alone (transformers' tokenizer classes
import much of transformers): tokenizer.json for the vocabulary, tokenizer_config.json for which tokens
end and pad a reply. It offers the few calls the agent makes, as transformers' fast tokenizer answers them
(the tests compare the two)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from tokenizers import Tokenizer

from ..errors import InputError


class PlainTokenizer:
    def __init__(self, folder: Path) -> None:
        folder = Path(folder)
        if not (folder / "tokenizer.json").is_file():
            raise InputError(f"{folder} has no tokenizer.json (a fast tokenizer saved by transformers)")
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        settings_file = folder / "tokenizer_config.json"
        settings = json.loads(settings_file.read_text()) if settings_file.is_file() else {}
        self.eos_token_id = self._token_id(settings.get("eos_token"), "eos_token")
        pad = settings.get("pad_token")
        self.pad_token_id = self._token_id(pad, "pad_token") if pad else self.eos_token_id

    def _token_id(self, token, role: str) -> int:
        text = token.get("content") if isinstance(token, dict) else token
        found = self._tokenizer.token_to_id(text) if text else None
        if found is None:
            raise InputError(f"the tokenizer's {role} {text!r} is not in its vocabulary")
        return found

    def __call__(self, text: str, add_special_tokens: bool = True) -> SimpleNamespace:
        return SimpleNamespace(input_ids=self._tokenizer.encode(text, add_special_tokens=add_special_tokens).ids)

    def decode(self, ids: list[int], skip_special_tokens: bool = False) -> str:
        return self._tokenizer.decode(list(ids), skip_special_tokens=skip_special_tokens)

    def __len__(self) -> int:
        return self._tokenizer.get_vocab_size(with_added_tokens=True)
