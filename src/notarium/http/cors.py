"""Cross-origin access for the browser examples of the documents (a page that hashes a
file and calls the API with ``fetch``), for the origins ``NOTARIUM_CORS_ORIGINS`` lists
and no other. Starlette's middleware decides; this answers its preflights the way
browsers and the Fetch standard expect: 204 with no body, and a refused preflight in
the route family's error envelope."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from notarium.http.errors import envelope_at

METHODS = ("GET", "HEAD", "POST", "PATCH", "DELETE")
REQUEST_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id")
# What clients read from a response: the request id support asks for, the rate-limit
# state, when to retry, an idempotent replay, a download's name, an L402 challenge,
# the record behind a sealed PDF.
EXPOSED_HEADERS = (
    "X-Request-Id",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "Retry-After",
    "Idempotent-Replayed",
    "Content-Disposition",
    "WWW-Authenticate",
    "X-Notarium-Record-Id",
    "X-Notarium-Certificate-Id",
)


class CorsMiddleware(CORSMiddleware):
    def __init__(self, app: ASGIApp, *, origins: Sequence[str], max_age: int) -> None:
        super().__init__(
            app,
            allow_origins=origins,
            allow_methods=METHODS,
            allow_headers=REQUEST_HEADERS,
            expose_headers=EXPOSED_HEADERS,
            # Keys travel in Authorization, never in cookies.
            allow_credentials=False,
            max_age=max_age,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "OPTIONS":
            headers = Headers(scope=scope)
            if "origin" in headers and "access-control-request-method" in headers:
                response = self._preflight(scope, headers)
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    def _preflight(self, scope: Scope, headers: Headers) -> Response:
        decided = self.preflight_response(request_headers=headers)
        kept = {
            name: value
            for name, value in decided.headers.items()
            if name not in ("content-length", "content-type")
        }
        if decided.status_code < 400:
            return Response(status_code=204, headers=kept)
        refused = bytes(decided.body).decode().removeprefix("Disallowed CORS ")
        request_id = str(scope.get("state", {}).get("request_id", "req_unknown"))
        envelope, _family = envelope_at(scope)
        response = envelope(
            403,
            "CORS_NOT_ALLOWED",
            f"This cross-origin request is not allowed ({refused}); the operator lists "
            "the origins that may call the API in NOTARIUM_CORS_ORIGINS.",
            request_id,
        )
        response.headers["Vary"] = kept.get("vary", "Origin")
        return response
