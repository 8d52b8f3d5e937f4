"""Response declarations shared by the route families' OpenAPI operations."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

_DESCRIPTIONS = {
    400: "Invalid input",
    401: "Missing or invalid credentials",
    403: "Not entitled or scope missing",
    404: "Not found",
    409: "Conflict",
    413: "Request body too large",
    415: "Not a PDF",
    422: "Idempotency-Key reused with a different body",
    429: "Rate limit or quota reached",
    500: "Internal error",
}


class ErrorBody(BaseModel):
    code: str
    message: str
    request_id: str


class ErrorEnvelope(BaseModel):
    error: ErrorBody


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for these statuses, each with the error envelope."""
    return {
        status: {"model": ErrorEnvelope, "description": _DESCRIPTIONS[status]}
        for status in statuses
    }


def html_or_json(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"text/html": {"schema": {"type": "string"}}, "application/json": {}},
    }
