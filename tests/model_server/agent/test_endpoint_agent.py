"""The OpenAI-compatible endpoint agent against a small local server that speaks the protocol over real sockets."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from model_server.agent.endpoint import EndpointInstructionAgent
from model_server.agent.grammar import is_grammatical, parse_instruction
from model_server.audio.types import SpeechSegment
from model_server.errors import InputError, JobCancelled

from .test_baseline_agent import analysis


class ChatServer:
    """Answers /v1/chat/completions like a local language-model server: loud speech gets a free-text
    answer outside the grammar, anything else a canonical instruction. Keeps every request it got."""

    def __init__(self, status: int = 200, token: str | None = None) -> None:
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
                if token and self.headers.get("Authorization") != f"Bearer {token}":
                    return self._send(401, {"error": "bad token"})
                if status != 200:
                    return self._send(status, {"error": "model not loaded"})
                prompt = body["messages"][-1]["content"]
                reply = ("She is furious: brows pulled down hard and lips pressed." if "loudness very loud" in prompt
                         else "A fairly sad person speaks with inner brow quite raised and speaking energy fairly low.")
                self._send(200, {"choices": [{"index": 0, "message": {"role": "assistant", "content": reply}}]})

            def _send(self, code: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "ChatServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_sends_transcript_and_prosody_and_returns_canonical_instructions():
    with ChatServer(token="s3cret") as server:
        agent = EndpointInstructionAgent(server.url, "smollm2", api_key="s3cret")
        loud_whole, loud = agent.instruct(analysis("get out of my house", loudness=-8, f0=280, f0_range=12, rate=16))
        soft_whole, _ = agent.instruct(analysis("he didn't make it", loudness=-36, f0=110, f0_range=2, rate=7))
    request = server.requests[0]
    assert request["path"] == "/v1/chat/completions" and request["model"] == "smollm2"
    assert request["messages"][0]["role"] == "system" and "A <intensity> <emotion> person" in request["messages"][0]["content"]
    assert '"get out of my house"' in request["messages"][1]["content"]
    assert "16.0 phones/s" in request["messages"][1]["content"]
    # The free-text answer is parsed and rewritten in the grammar.
    assert is_grammatical(loud_whole) and parse_instruction(loud_whole).emotion == "angry"
    assert parse_instruction(loud_whole).actions.get("brow_lowered", 0) > 0
    assert loud == [{"start": 0.0, "end": 3.0, "instruction": loud_whole}]
    assert parse_instruction(soft_whole).emotion == "sad"


def two_segment_clip():
    """A calm phrase, then a loud one."""
    clip = analysis("fine thanks now get out", loudness=-20, f0=200, f0_range=8, rate=13, seconds=6.0)
    clip.segments[:] = [SpeechSegment(0.0, 3.0, "fine thanks", 11, 165, 5, -24, 0.4),
                        SpeechSegment(3.0, 6.0, "now get out", 16, 280, 12, -8, 0.0)]
    return clip


def test_each_segment_gets_its_own_answer_and_the_clip_one_more():
    clip = two_segment_clip()
    reported = []
    with ChatServer() as server:
        agent = EndpointInstructionAgent(server.url)
        whole, segments = agent.instruct(clip, lambda done, total: reported.append((done, total, len(server.requests))))
    assert [s["start"] for s in segments] == [0.0, 3.0]
    assert [parse_instruction(s["instruction"]).emotion for s in segments] == ["sad", "angry"]
    assert len(server.requests) == 3 and is_grammatical(whole)
    assert reported == [(0, 3, 0), (1, 3, 1), (2, 3, 2)]  # before each request


def test_a_raising_reply_callback_stops_further_requests():
    clip = two_segment_clip()

    def stop_at_second(done: int, total: int) -> None:
        if done == 1:
            raise JobCancelled("cancelled by the user")

    with ChatServer() as server, pytest.raises(JobCancelled):
        EndpointInstructionAgent(server.url).instruct(clip, stop_at_second)
    assert len(server.requests) == 1


def test_dead_or_failing_endpoint_says_what_to_do():
    with ChatServer() as server:
        url = server.url
    with pytest.raises(InputError, match="did not answer.*start the server"):
        EndpointInstructionAgent(url, timeout=5).instruct(analysis("hello", loudness=-24, f0=165, f0_range=5, rate=11))
    with ChatServer(status=503) as server, pytest.raises(InputError, match="HTTP 503.*model not loaded"):
        EndpointInstructionAgent(server.url).instruct(analysis("hello", loudness=-24, f0=165, f0_range=5, rate=11))


def test_a_redirect_is_refused_and_the_key_never_reaches_the_other_origin():
    """The configured endpoint answers 302 to another server: the key and the prompt stay where they were
    sent, and that other server's answer is never used as the instruction."""
    with ChatServer() as elsewhere:
        class Redirect(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(302)
                self.send_header("Location", f"{elsewhere.url}/chat/completions")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        redirecting = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
        threading.Thread(target=redirecting.serve_forever, daemon=True).start()
        try:
            agent = EndpointInstructionAgent(f"http://127.0.0.1:{redirecting.server_address[1]}/v1", api_key="k3y")
            with pytest.raises(InputError, match="redirect .*not followed"):
                agent.instruct(analysis("get out of my house", loudness=-8, f0=280, f0_range=12, rate=16))
        finally:
            redirecting.shutdown()
            redirecting.server_close()
    assert elsewhere.requests == []  # neither the key nor the prompt went there
