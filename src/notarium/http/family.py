"""What a route family is: its routers, its error envelope and its error table.

A family lives in ``notarium.http.families.<name>`` and exposes one ``FAMILY``;
``notarium.http.app.FAMILIES`` lists them. The exception handler answers every error
of a request in the family of the route that matched it (``Family.routers``), or, when
no route matched (a 404), of the longest ``Family.prefixes`` entry the path starts with.

An error's status and code come from ``Family.errors.lookup(exc)``: the family's own
entries over ``error_codes.DEFAULT``, per exception class along its MRO, so the most
specific class listed wins. Example::

    ERRORS = ErrorMap(
        {DuplicateRecord: Wire(409, "duplicate_certificate"),
         ServiceBusy: lambda exc: Wire(429, "service_busy", headers={"Retry-After": "30"})},
        validation={"fileName": "INVALID_FILE_NAME"},
    )

An ``ErrorMap`` with no entries and no validation codes is the legacy path: the
handler then answers with the envelope ``errors.register_envelope`` registered for the
path and the default statuses, exactly as before families had tables."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from fastapi import APIRouter
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from notarium.http.error_codes import DEFAULT, INTERNAL_ERROR, Entry, Wire

__all__ = ["Envelope", "ErrorMap", "Family", "Wire", "standard_envelope"]

#: ``envelope(status, code, message, request_id)``: the family's error response.
Envelope = Callable[[int, str, str, str], Response]


def standard_envelope(status: int, code: str, message: str, request_id: str) -> Response:
    """``{"error": {"code", "message", "request_id"}}``: the timestamps document's shape,
    also used by the admin, public and TSA routes."""
    return JSONResponse(
        {"error": {"code": code, "message": message, "request_id": request_id}},
        status_code=status,
    )


class ErrorMap:
    """A family's error table: ``entries`` over ``base`` (the shared defaults).

    ``validation`` names the code of a request-model failure (FastAPI's
    ``RequestValidationError``) by the field it is in: the key is the field's dotted
    location without its source (``"filename"``, ``"metadata.tags"``), or its
    top-level name; other failures keep ``INVALID_REQUEST``."""

    def __init__(
        self,
        entries: Mapping[type[BaseException], Entry],
        *,
        base: Mapping[type[BaseException], Entry] = DEFAULT,
        validation: Mapping[str, str] | None = None,
    ) -> None:
        self.entries = MappingProxyType(dict(entries))
        self.validation = MappingProxyType(dict(validation or {}))
        self._table = {**base, **entries}

    @property
    def legacy(self) -> bool:
        """True for an empty table: the family still answers through the envelope
        registry (``errors.register_envelope``)."""
        return not self.entries and not self.validation

    def lookup(self, exc: BaseException) -> Wire:
        """The answer for ``exc``, its code always filled in."""
        wire = Wire(500)
        for cls in type(exc).__mro__:
            entry = self._table.get(cls)
            if entry is not None:
                wire = entry if isinstance(entry, Wire) else entry(exc)
                break
        if isinstance(exc, RequestValidationError):
            code = self._validation_code(exc) or wire.code
            return Wire(wire.status, code, wire.headers, wire.fields)
        if wire.code is None:
            code = getattr(exc, "code", None)
            return Wire(
                wire.status,
                code if isinstance(code, str) else INTERNAL_ERROR,
                wire.headers,
                wire.fields,
            )
        return wire

    def _validation_code(self, exc: RequestValidationError) -> str | None:
        errors = exc.errors()
        if not errors or not self.validation:
            return None
        loc = [str(part) for part in errors[0].get("loc", ())]
        if loc and loc[0] in ("body", "query", "path", "header", "cookie"):
            loc = loc[1:]
        if not loc:
            return None
        return self.validation.get(".".join(loc)) or self.validation.get(loc[0])


#: The legacy table: see the module's docstring.
LEGACY = ErrorMap({})


@dataclass(frozen=True)
class Family:
    """One route family.

    ``prefixes`` choose the family only for requests no route matched (their 404s);
    ``large_bodies`` maps exact paths to their own request-body cap (an upload route);
    ``webhooks`` are OpenAPI-only routers documenting requests the service sends."""

    name: str
    routers: tuple[APIRouter, ...]
    envelope: Envelope = standard_envelope
    prefixes: tuple[str, ...] = ()
    errors: ErrorMap = LEGACY
    large_bodies: Mapping[str, int] = field(default_factory=dict)
    webhooks: tuple[APIRouter, ...] = ()
