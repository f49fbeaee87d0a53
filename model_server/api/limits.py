"""What stands between a socket and the app: the token, the body size, and a deadline for reading
a request, so that no client can hold the process with a half-sent request or a huge body."""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


@dataclass(frozen=True)
class ServerLimits:
    max_body_bytes: int = 64 * 1024 * 1024  # base64 of a 45 min 16 kHz WAV or hours of FLAC/OGG
    max_queued_jobs: int = 32  # jobs waiting or running; more is answered 429 with Retry-After
    request_read_seconds: float = 30.0  # from the first byte of a request to its last
    job_keep_seconds: float = 600.0  # a finished job's status is kept this long (less once read: jobs.py)


async def _reply(send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class RequestGate:
    """ASGI middleware: refuse a wrong token (401) before reading the body, then read the body up to
    `max_body_bytes` (413 beyond it, from Content-Length or while it streams) and hand it on."""

    def __init__(self, app, *, token: str, max_body_bytes: int):
        self.app, self.max_body_bytes = app, max_body_bytes
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        if not hmac.compare_digest(headers.get(b"authorization", b""), self.expected):
            return await _reply(send, 401, "missing or wrong token")
        declared = headers.get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.max_body_bytes:
            return await _reply(send, 413, self._too_large())
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_body_bytes:
                return await _reply(send, 413, self._too_large())
            if not message.get("more_body"):
                break
        body, handed = b"".join(chunks), False

        async def replay():
            nonlocal handed
            if handed:  # after the body, the app only waits for a disconnect
                return await receive()
            handed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    def _too_large(self) -> str:
        return (f"the request is larger than this server's limit of {self.max_body_bytes // (1024 * 1024)} MiB; "
                f"send a compressed file (FLAC, OGG) or a shorter clip, or start the server with a larger --max-body-mb")


def deadline_protocol(seconds: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol with a deadline: a request whose headers and body have not all arrived
    `seconds` after its first byte (or after the connection opened) gets 408 and the connection closes."""

    class DeadlineH11Protocol(H11Protocol):
        _deadline = None

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            self._arm()
            super().data_received(data)

        def handle_events(self) -> None:
            super().handle_events()
            if self.conn.their_state not in (h11.IDLE, h11.SEND_BODY):  # the request is all here
                self._disarm()

        def connection_lost(self, exc) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            if self._deadline is None:
                self._deadline = self.loop.call_later(seconds, self._too_slow)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _too_slow(self) -> None:
            self._deadline = None
            if self.conn.their_state not in (h11.IDLE, h11.SEND_BODY) or self.transport.is_closing():
                return
            if self.cycle is None or not self.cycle.response_started:
                detail = json.dumps({"detail": f"the request was not all sent within {seconds:g} s"}).encode()
                self.transport.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
                                     b"connection: close\r\ncontent-length: " + str(len(detail)).encode()
                                     + b"\r\n\r\n" + detail)
            if self.cycle is not None:  # wake the app waiting for the rest of the body
                self.cycle.disconnected = True
                self.cycle.message_event.set()
            self.transport.close()

    return DeadlineH11Protocol
