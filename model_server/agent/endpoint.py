"""Instruction agent backed by a local OpenAI-compatible chat endpoint (llama.cpp's server, Ollama, vLLM).

The endpoint hears no audio: it reads each segment's transcript and a summary of its prosody in
words and numbers, and answers with an instruction. Whatever it answers is parsed by the grammar and
written back in canonical form, so the rest of the pipeline always gets a grammatical instruction.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from ..audio.types import SpeechAnalysis, SpeechSegment
from ..errors import InputError
from .baseline import whole_clip_segment
from .grammar import ACTIONS, DEGREES, EMOTION_ADJECTIVES, INTENSITY_ADVERBS, format_instruction, parse_instruction
from .prosody_summary import prosody_summary
from .replies import clip_instructions, nothing_spoken, reply_targets, reported

DEFAULT_TIMEOUT_S = 60.0
MAX_REPLY_TOKENS = 96


def system_prompt() -> str:
    """The grammar spelled out for the language model, with the paper's kind of example."""
    phrases = "; ".join(f"{part} <degree> {verb}" for _, part, verb in ACTIONS)
    return (
        "You direct the facial animation of a character who speaks a line. From the transcript and the "
        "prosody of the speech, judge the speaker's emotion and describe how the face moves. Answer with "
        "exactly one sentence of this form and nothing else:\n"
        "A <intensity> <emotion> person speaks with <phrase>, <phrase>, and <phrase>.\n"
        f"<intensity>: {', '.join(INTENSITY_ADVERBS.values())}. "
        f"<emotion>: {', '.join(a for a in EMOTION_ADJECTIVES.values() if a != 'neutral')}; "
        "or write 'A neutral person'.\n"
        f"<phrase>: {phrases}; jaw opening <degree> wide; jaw opening <degree> small; "
        "speaking energy <degree> high; speaking energy <degree> low.\n"
        f"<degree>: {', '.join(d for d, _ in DEGREES)}.\n"
        "Example: A fairly sad person speaks with inner brow quite raised, lip corners mildly pulled down, "
        "and speaking energy fairly low."
    )


def user_prompt(segment: SpeechSegment) -> str:
    text = segment.text.strip() or "(no words recognised)"
    return f"Transcript: \"{text}\"\nProsody: {prosody_summary(segment)}."


class EndpointInstructionAgent:
    name = "openai-compatible-endpoint"

    def __init__(self, base_url: str, model: str = "default", *, api_key: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT_S) -> None:
        """`base_url` is the API root that ends in /v1, e.g. http://127.0.0.1:8080/v1 (llama.cpp) or
        http://127.0.0.1:11434/v1 (Ollama); `model` is the model name the server expects."""
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.timeout = timeout

    def describe(self) -> dict:
        return {"name": self.name, "kind": "endpoint", "url": self.base_url, "model": self.model}

    def instruct(self, analysis: SpeechAnalysis, on_reply=None) -> tuple[str, list[dict]]:
        """The whole clip's instruction and one per segment; `on_reply(done, total)` is called before each
        request (replies.py)."""
        whole = whole_clip_segment(analysis)
        if whole is None:
            return nothing_spoken(analysis)
        return clip_instructions(analysis, [self.instruction_for(segment)
                                            for segment in reported(reply_targets(analysis, whole), on_reply)])

    def instruction_for(self, segment: SpeechSegment) -> str:
        """The endpoint's answer for one segment, in canonical grammar."""
        reply = self.complete([{"role": "system", "content": system_prompt()},
                               {"role": "user", "content": user_prompt(segment)}])
        return format_instruction(parse_instruction(reply))

    def complete(self, messages: list[dict]) -> str:
        """One chat completion; its text. Raises InputError with what went wrong and what to do."""
        body = json.dumps({"model": self.model, "messages": messages, "temperature": 0.0,
                           "max_tokens": MAX_REPLY_TOKENS}).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(f"{self.base_url}/chat/completions", body, headers, method="POST")
        hint = "start the server, or choose the baseline agent"
        try:
            with _NO_REDIRECTS.open(request, timeout=self.timeout) as response:
                payload = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            if 300 <= exc.code < 400:  # the key must not go to wherever a redirect points
                raise InputError(f"instruction endpoint {self.base_url} answered with a redirect (HTTP {exc.code}); "
                                 "it is not followed, so the API key stays with the address you gave: give the "
                                 "endpoint's final address") from exc
            detail = exc.read().decode("utf-8", "replace")[:200]
            raise InputError(f"instruction endpoint {self.base_url} answered HTTP {exc.code}: {detail}") from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise InputError(f"instruction endpoint {self.base_url} did not answer ({reason}); {hint}") from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"instruction endpoint {self.base_url} sent something other than JSON") from exc
        try:
            return str(payload["choices"][0]["message"]["content"])
        except (KeyError, IndexError, TypeError) as exc:
            raise InputError(f"instruction endpoint {self.base_url} sent no chat completion: "
                             f"{json.dumps(payload)[:200]}") from exc


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is answered as the error it is here: following it would send the Authorization header
    (the API key) and the prompt to another origin, and use that origin's answer as the instruction."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_NO_REDIRECTS = urllib.request.build_opener(_RefuseRedirects)
