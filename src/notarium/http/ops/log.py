"""The transparency log: signed checkpoints, its verifier key, and proofs."""

from __future__ import annotations

import base64
from typing import Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from notarium.core.errors import NotFoundError, ValidationError
from notarium.http.deps import runtime_of
from notarium.http.openapi_responses import error_responses

router = APIRouter(prefix="/log", tags=["log"], responses=error_responses(400, 404, 500))

# Sizes and indices are stored as signed 64-bit integers.
MAX_INDEX = 2**63 - 1

TEXT: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/plain": {"schema": {"type": "string"}}}}
}


class LogEmpty(NotFoundError):
    code = "LOG_EMPTY"


class InvalidLogRange(ValidationError):
    code = "INVALID_LOG_RANGE"


def _latest_size(request: Request) -> int:
    checkpoint = runtime_of(request).translog.latest()
    if checkpoint is None:
        raise LogEmpty("The log has no checkpoint yet.")
    return checkpoint.size


def _b64(items: tuple[bytes, ...]) -> list[str]:
    return [base64.b64encode(item).decode() for item in items]


@router.get(
    "/checkpoint",
    response_class=Response,
    responses=TEXT,
    summary="The latest signed checkpoint (c2sp.org/tlog-checkpoint)",
)
def checkpoint(request: Request) -> PlainTextResponse:
    latest = runtime_of(request).translog.latest()
    if latest is None:
        raise LogEmpty("The log has no checkpoint yet.")
    return PlainTextResponse(latest.note, headers={"Cache-Control": "no-cache"})


@router.get(
    "/key",
    response_class=Response,
    responses=TEXT,
    summary="The checkpoint verifier key (signed-note name+keyid+key)",
)
def key(request: Request) -> PlainTextResponse:
    return PlainTextResponse(runtime_of(request).translog.verifier_key + "\n")


@router.get("/proof/inclusion", summary="Inclusion proof of a leaf in a tree size")
def inclusion(
    request: Request,
    index: int = Query(ge=0, le=MAX_INDEX),
    size: int | None = Query(default=None, ge=1, le=MAX_INDEX),
) -> JSONResponse:
    latest = _latest_size(request)
    size = latest if size is None else size
    if size > latest or index >= size:
        raise InvalidLogRange(f"Need 0 <= index < size <= {latest}.")
    log = runtime_of(request).translog
    return JSONResponse(
        {
            "index": index,
            "size": size,
            "leaf_hash": base64.b64encode(log.leaf_hash_at(index, size)).decode(),
            "hashes": _b64(log.inclusion_proof(index, size)),
        }
    )


@router.get("/proof/consistency", summary="Consistency proof between two tree sizes")
def consistency(
    request: Request,
    old_size: int = Query(alias="from", ge=1, le=MAX_INDEX),
    new_size: int | None = Query(default=None, alias="to", ge=1, le=MAX_INDEX),
) -> JSONResponse:
    latest = _latest_size(request)
    new_size = latest if new_size is None else new_size
    if not old_size <= new_size <= latest:
        raise InvalidLogRange(f"Need 1 <= from <= to <= {latest}.")
    log = runtime_of(request).translog
    return JSONResponse(
        {
            "from": old_size,
            "to": new_size,
            "hashes": _b64(log.consistency_proof(old_size, new_size)),
        }
    )


@router.get(
    "/checkpoint/{size}",
    response_class=Response,
    responses=TEXT,
    summary="The signed checkpoint the log published at this size",
)
def checkpoint_at(request: Request, size: int = Path(ge=0, le=MAX_INDEX)) -> PlainTextResponse:
    found = runtime_of(request).translog.checkpoint_at(size)
    if found is None:
        raise NotFoundError(
            "No checkpoint was published at this size.", code="CHECKPOINT_NOT_FOUND"
        )
    return PlainTextResponse(found.note)
