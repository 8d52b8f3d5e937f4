"""One exception handler for every route family: the family of the matched route (or,
for a path no route matched, the longest family prefix) chooses the status, the code
and the envelope. See ``notarium.http.family`` for how a family declares them."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Mount
from starlette.types import Scope

from notarium.core.errors import NotariumError
from notarium.http.allow import AllowTable
from notarium.http.error_codes import HTTP_CODES
from notarium.http.family import LEGACY, Envelope, Family, Wire, standard_envelope

log = logging.getLogger("notarium.http")

__all__ = [
    "Answered",
    "FamilyIndex",
    "answer",
    "envelope_for",
    "install_error_handlers",
    "register_envelope",
    "request_id_of",
    "standard_envelope",
    "status_for",
]

INTERNAL_MESSAGE = "The service failed while handling the request; quote the request_id to support."


class Answered(Exception):
    """Raised by a dependency that already holds the whole response (an idempotent
    replay); the handler sends ``response`` as it is."""

    def __init__(self, response: Response) -> None:
        super().__init__("answered")
        self.response = response


# Legacy: route families not yet declaring an error table register their envelope by
# path prefix; the longest prefix wins.
ENVELOPES: list[tuple[str, Envelope]] = []


def register_envelope(prefix: str, envelope: Envelope) -> None:
    ENVELOPES.append((prefix, envelope))
    ENVELOPES.sort(key=lambda item: len(item[0]), reverse=True)


def envelope_for(path: str) -> Envelope:
    for prefix, envelope in ENVELOPES:
        if path.startswith(prefix):
            return envelope
    return standard_envelope


def status_for(error: NotariumError) -> int:
    """The default status of a domain error (legacy callers)."""
    return LEGACY.lookup(error).status


class FamilyIndex:
    """Which family answers for a request: by the matched route's endpoint, else by
    the longest prefix of the path."""

    def __init__(self, families: Iterable[Family]) -> None:
        self.families = tuple(families)
        self._by_endpoint: dict[Any, Family] = {}
        for family in self.families:
            for router in family.routers:
                for route in _leaves(router.routes):
                    endpoint = getattr(route, "endpoint", None)
                    if endpoint is not None:
                        self._by_endpoint[endpoint] = family
        self._by_prefix = sorted(
            ((prefix, family) for family in self.families for prefix in family.prefixes),
            key=lambda item: len(item[0]),
            reverse=True,
        )

    def of(self, scope: Scope) -> Family | None:
        family = self._by_endpoint.get(scope.get("endpoint"))
        if family is not None:
            return family
        path = scope.get("path", "")
        for prefix, candidate in self._by_prefix:
            if path.startswith(prefix):
                return candidate
        return None

    def large_bodies(self) -> dict[str, int]:
        return {path: cap for family in self.families for path, cap in family.large_bodies.items()}


def _leaves(routes: Iterable[BaseRoute]) -> Iterable[BaseRoute]:
    for route in routes:
        if isinstance(route, Mount):
            yield from _leaves(route.routes)
        else:
            yield route


def family_of(scope: Scope) -> Family | None:
    app = scope.get("app")
    index = getattr(getattr(app, "state", None), "families", None)
    return index.of(scope) if isinstance(index, FamilyIndex) else None


def request_id_of(request: Request) -> str:
    return str(getattr(request.state, "request_id", "req_unknown"))


def envelope_at(scope: Scope) -> tuple[Envelope, Family | None]:
    """The envelope errors of this request go out in, and the family that owns it
    (None on the legacy path)."""
    family = family_of(scope)
    if family is None or family.errors.legacy:
        return envelope_for(scope.get("path", "")), None
    return family.envelope, family


def answer(request: Request, exc: BaseException) -> Response:
    """The error response for ``exc`` in the request's family envelope."""
    envelope, family = envelope_at(request.scope)
    wire = (family.errors if family is not None else LEGACY).lookup(exc)
    response = envelope(wire.status, _code(wire), message_of(exc), request_id_of(request))
    if wire.fields:
        response = _with_fields(response, wire)
    response.headers.update(wire.headers)
    return response


def _code(wire: Wire) -> str:
    assert wire.code is not None  # ErrorMap.lookup always fills it in
    return wire.code


def _with_fields(response: Response, wire: Wire) -> Response:
    body = json.loads(bytes(response.body))
    body.update(wire.fields)
    kept = {
        name: value
        for name, value in response.headers.items()
        if name not in ("content-length", "content-type")
    }
    return JSONResponse(body, status_code=response.status_code, headers=kept)


def message_of(exc: BaseException) -> str:
    if isinstance(exc, NotariumError):
        return exc.message
    if isinstance(exc, HTTPException):
        code = HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
        return str(exc.detail) if exc.detail else code.replace("_", " ").lower()
    if isinstance(exc, RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return f"{where}: {first.get('msg', 'invalid request')}" if where else "invalid request"
    return INTERNAL_MESSAGE


async def handle(request: Request, exc: Exception) -> Response:
    """The one handler, registered for every exception class the app answers."""
    if isinstance(exc, Answered):
        return exc.response
    known = isinstance(exc, NotariumError | HTTPException | RequestValidationError)
    if not known:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
    response = answer(request, exc)
    if isinstance(exc, NotariumError) and response.status_code >= 500:
        log.error("domain error %s: %s", exc.code, exc.message, exc_info=exc)
    if response.status_code == 405:
        allow = getattr(request.app.state, "allow", None)
        if isinstance(allow, AllowTable):
            response.headers["Allow"] = ", ".join(allow.methods_for(request.url.path))
    if not known:
        # This handler runs outside the request middleware, which cannot add the header.
        response.headers["X-Request-Id"] = request_id_of(request)
    return response


def install_error_handlers(app: FastAPI, families: Iterable[Family] = ()) -> FamilyIndex:
    """Register ``handle`` and remember the families it chooses from."""
    index = FamilyIndex(families)
    app.state.families = index
    for exc_class in (Answered, NotariumError, HTTPException, RequestValidationError, Exception):
        app.add_exception_handler(exc_class, handle)
    return index
