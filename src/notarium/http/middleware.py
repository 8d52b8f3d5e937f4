"""Pure ASGI middleware (no per-request task switching): request ids, the body-size cap,
and rate-limit headers on every response of a rate-limited route."""

from __future__ import annotations

import re
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from notarium.core.errors import ValidationError

_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


class PayloadTooLarge(ValidationError):
    code = "PAYLOAD_TOO_LARGE"


class RequestContextMiddleware:
    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, large_bodies: dict[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        # Routes that take uploads (a PDF to seal) get their own, larger cap.
        self.large_bodies = large_bodies or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        incoming = _header(scope, b"x-request-id")
        # Keep a well-formed id from a proxy so traces join up; mint one otherwise.
        request_id = incoming if incoming and _CLIENT_ID.match(incoming) else _new_id()
        state["request_id"] = request_id

        declared = _header(scope, b"content-length")
        limit = self.large_bodies.get(scope.get("path", ""), self.max_body_bytes)
        # Refuse an announced oversize body before reading a byte of it.
        announced_too_large = declared is not None and declared.isdigit() and int(declared) > limit
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            if announced_too_large:
                raise PayloadTooLarge(f"The request body exceeds the {limit // 1024} KB limit.")
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLarge(f"The request body exceeds the {limit // 1024} KB limit.")
            return message

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                rate = state.get("rate_limit")
                if rate is not None and not _has(headers, b"x-ratelimit-limit"):
                    headers.extend(
                        [
                            (b"x-ratelimit-limit", str(rate.limit).encode()),
                            (b"x-ratelimit-remaining", str(rate.remaining).encode()),
                            (b"x-ratelimit-reset", str(int(rate.reset_at)).encode()),
                        ]
                    )
                message["headers"] = headers
            await send(message)

        await self.app(scope, limited_receive, send_with_headers)


def _new_id() -> str:
    return "req_" + uuid.uuid4().hex


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            try:
                return str(value.decode("latin-1"))
            except UnicodeDecodeError:
                return None
    return None


def _has(headers: list[tuple[bytes, bytes]], name: bytes) -> bool:
    return any(key.lower() == name for key, _ in headers)
