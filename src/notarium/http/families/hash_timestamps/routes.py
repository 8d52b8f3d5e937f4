"""The hash timestamps API, route for route as ``hash-timestamps-api.txt`` describes it."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from notarium.app.runtime import Runtime
from notarium.core.errors import NotariumError, NotFoundError, ValidationError
from notarium.core.hashing.sha256 import normalize_sha256_hex
from notarium.core.text import has_control
from notarium.formats.canonical import canonical_json
from notarium.formats.rfc3161.reply import granted_response
from notarium.http.deps import (
    CREATE_PER_IP,
    CREATE_PER_KEY,
    GENERAL,
    api_principal,
    owner_of,
    runtime_of,
)
from notarium.http.disposition import attachment
from notarium.http.errors import request_id_of, status_for
from notarium.http.families.hash_timestamps.schemas import (
    AccountSummary,
    TimestampCreate,
    TimestampList,
    TimestampResource,
)
from notarium.http.formats import iso_micros, iso_millis, parse_iso8601, parse_json_object
from notarium.http.openapi_responses import error_responses
from notarium.http.pdf_download import PDF_RESPONSE, pdf_response
from notarium.ledger.accounts.scopes import TIMESTAMPS_READ, TIMESTAMPS_WRITE
from notarium.ledger.accounts.service import Principal
from notarium.ledger.idempotency.service import Claim, StoredResponse, check_key
from notarium.ledger.records.values import NewRecord, RecordView, Status

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

router = APIRouter(prefix="/api/v1", tags=["timestamps"])

Creator = Annotated[
    Principal,
    Depends(
        api_principal(TIMESTAMPS_WRITE, per_key=(GENERAL, CREATE_PER_KEY), per_ip=(CREATE_PER_IP,))
    ),
]

ERRORS = error_responses(400, 401, 403, 404, 409, 413, 422, 429, 500)

MAX_FILENAME = 1024
MAX_FILE_TYPE = 255
MAX_FILE_SIZE = 2**53 - 1  # the largest integer every JSON client reads exactly
LIST_STATUSES: dict[str, tuple[Status, ...] | None] = {
    "all": None,
    # `anchoring` is a step on the way to confirmation, so the pending queue includes it.
    "pending": ("pending", "anchoring"),
    "confirmed": ("confirmed",),
    "failed": ("failed",),
}
# The document's vocabulary has no `anchoring`: to its clients a record being anchored is
# still waiting for confirmation.
DOCUMENT_STATUS: dict[Status, str] = {
    "pending": "pending",
    "anchoring": "pending",
    "confirmed": "confirmed",
    "failed": "failed",
}

# Unstorable text (NUL, a lone surrogate) in a field is that field's error.
FIELD_CODES = {
    "sha256_hash": "INVALID_SHA256_HASH",
    "filename": "INVALID_FILENAME",
    "file_type": "INVALID_FILE_TYPE",
}


class InvalidField(ValidationError):
    pass


def resource(view: RecordView, base_url: str) -> dict[str, Any]:
    return {
        "id": view.id,
        "certificate_id": view.certificate_id,
        "sha256_hash": view.sha256,
        "filename": view.filename,
        "file_size_bytes": view.file_size_bytes,
        "file_type": view.file_type,
        "status": DOCUMENT_STATUS[view.status],
        "blockchain_tx": view.blockchain_tx,
        "bitcoin_block": view.bitcoin_block,
        "confirmed_at": iso_millis(view.confirmed_at),
        "created_at": iso_millis(view.created_at),
        "thumbnail_url": None,
        "branding_snapshot": None,
        "certificate_url": f"{base_url}/cert/{view.certificate_id}",
        "verify_url": f"{base_url}/verify/{view.sha256}",
        "ots_url": f"/api/v1/timestamps/{view.id}/ots",
        "tsr_url": f"/api/v1/timestamps/{view.id}/tsr",
        "proof_url": f"/api/v1/timestamps/{view.id}/proof",
    }


def parse_new_record(payload: dict[str, Any]) -> NewRecord:
    sha256 = normalize_sha256_hex(payload.get("sha256_hash"))
    filename = payload.get("filename")
    if not isinstance(filename, str) or not filename.strip():
        raise InvalidField("`filename` must be a non-empty string.", code="INVALID_FILENAME")
    if len(filename) > MAX_FILENAME or has_control(filename):
        raise InvalidField(
            f"`filename` must be at most {MAX_FILENAME} characters without control characters.",
            code="INVALID_FILENAME",
        )
    size = payload.get("file_size_bytes")
    if not isinstance(size, int) or isinstance(size, bool) or not 0 < size <= MAX_FILE_SIZE:
        raise InvalidField(
            "`file_size_bytes` must be a positive integer.", code="INVALID_FILE_SIZE"
        )
    file_type = payload.get("file_type")
    if file_type is not None and (
        not isinstance(file_type, str) or len(file_type) > MAX_FILE_TYPE or has_control(file_type)
    ):
        raise InvalidField(
            f"`file_type` must be a string of at most {MAX_FILE_TYPE} characters.",
            code="INVALID_FILE_TYPE",
        )
    return NewRecord(
        sha256=sha256,
        filename=filename,
        file_size_bytes=size,
        file_type=file_type,
        channel="timestamps",
    )


def parse_record_id(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidField("The timestamp id must be a UUID.", code="INVALID_ID") from None


def _error_body(error: NotariumError, request_id: str) -> bytes:
    return json.dumps(
        {"error": {"code": error.code, "message": error.message, "request_id": request_id}}
    ).encode()


def _create(
    runtime: Runtime,
    principal: Principal,
    body: bytes,
    content_type: str,
    idempotency_key: str | None,
    request_id: str,
) -> Response:
    claim: Claim | None = None
    if idempotency_key is not None:
        check_key(idempotency_key)
        outcome = runtime.idempotency.claim(
            principal.account_id,
            f"timestamps.create:{principal.mode}",
            idempotency_key,
            hashlib.sha256(body).hexdigest(),
        )
        if isinstance(outcome, StoredResponse):
            return Response(
                outcome.body,
                status_code=outcome.status,
                media_type="application/json",
                headers={"Idempotent-Replayed": "true"},
            )
        claim = outcome
    try:
        media = content_type.split(";")[0].strip().lower()
        if media != "application/json":
            raise InvalidField(
                "Send the payload as JSON with `Content-Type: application/json`.",
                code="INVALID_JSON",
            )
        new = parse_new_record(parse_json_object(body, field_codes=FIELD_CODES))
        created: list[bytes] = []

        # The response is stored in the record's own transaction: if the process dies
        # once that commits, a retry with the key replays this 201 instead of running the
        # create again into DUPLICATE_TIMESTAMP.
        def store_response(session: Session, view: RecordView) -> None:
            body = json.dumps(resource(view, runtime.settings.base_url)).encode()
            if claim is not None:
                runtime.idempotency.complete_in(session, claim, 201, body)
            created.append(body)

        runtime.records.create(owner_of(principal), principal.plan, new, also=store_response)
        payload = created[-1]
    except NotariumError as error:
        if claim is None or status_for(error) >= 500:
            if claim is not None:
                runtime.idempotency.release(claim)
            raise
        runtime.idempotency.complete(claim, status_for(error), _error_body(error, request_id))
        raise
    except BaseException:
        if claim is not None:
            runtime.idempotency.release(claim)
        raise
    return Response(payload, status_code=201, media_type="application/json")


@router.post(
    "/timestamps",
    status_code=201,
    response_model=TimestampResource,
    responses=ERRORS,
    summary="Create a timestamp record for a SHA-256 hash",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": TimestampCreate.model_json_schema()}},
        },
        "parameters": [
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 200},
            }
        ],
    },
)
async def create_timestamp(
    request: Request,
    principal: Creator,
) -> Response:
    body = await request.body()
    return await run_in_threadpool(
        _create,
        runtime_of(request),
        principal,
        body,
        request.headers.get("content-type", ""),
        request.headers.get("idempotency-key"),
        request_id_of(request),
    )


@router.get(
    "/timestamps", response_model=TimestampList, responses=ERRORS, summary="List timestamps"
)
def list_timestamps(
    request: Request,
    status: Annotated[str, Query(json_schema_extra={"enum": list(LIST_STATUSES)})] = "all",
    before: str | None = None,
    limit: str | None = None,
    principal: Principal = Depends(api_principal(TIMESTAMPS_READ)),  # noqa: B008
) -> JSONResponse:
    if status not in LIST_STATUSES:
        raise InvalidField(
            "`status` must be one of all, confirmed, pending, failed.", code="INVALID_STATUS"
        )
    size = 50
    if limit is not None:
        if not limit.isdigit() or int(limit) < 1:
            raise InvalidField("`limit` must be a positive integer.", code="INVALID_LIMIT")
        size = min(int(limit[:6]), 50)
    cursor = None
    if before is not None:
        try:
            cursor = parse_iso8601(before)
        except ValueError:
            raise InvalidField(
                "`before` must be an ISO-8601 timestamp such as a previous `next_cursor`.",
                code="INVALID_CURSOR",
            ) from None
    runtime = runtime_of(request)
    page = runtime.records.page(
        owner_of(principal), statuses=LIST_STATUSES[status], before=cursor, limit=size
    )
    return JSONResponse(
        {
            "data": [resource(v, runtime.settings.base_url) for v in page.items],
            "total_count": page.total_count,
            "next_cursor": iso_micros(page.next_cursor) if page.next_cursor else None,
        }
    )


def _record_id(timestamp_id: str) -> str:
    return parse_record_id(timestamp_id)


# Authentication is declared before the id so an anonymous caller learns nothing, not
# even whether an id is well formed.
Reader = Annotated[Principal, Depends(api_principal(TIMESTAMPS_READ))]
RecordId = Annotated[str, Depends(_record_id)]


@router.get(
    "/timestamps/{timestamp_id}",
    response_model=TimestampResource,
    responses=ERRORS,
    summary="Fetch a timestamp",
)
def get_timestamp(request: Request, principal: Reader, record_id: RecordId) -> JSONResponse:
    runtime = runtime_of(request)
    view = runtime.records.get(owner_of(principal), record_id)
    return JSONResponse(resource(view, runtime.settings.base_url))


@router.get(
    "/timestamps/{timestamp_id}/ots",
    responses={200: {"content": {"application/octet-stream": {}}}, **ERRORS},
    response_class=Response,
    summary="Download the OpenTimestamps proof",
)
def get_ots(request: Request, principal: Reader, record_id: RecordId) -> Response:
    view, ots = runtime_of(request).proofs.ots_file(owner_of(principal), record_id)
    disposition = attachment(f"{view.filename}.ots", fallback=f"{view.certificate_id}.ots")
    return Response(
        ots,
        media_type="application/octet-stream",
        headers={"Content-Disposition": disposition},
    )


@router.get(
    "/timestamps/{timestamp_id}/tsr",
    responses={200: {"content": {"application/timestamp-reply": {}}}, **ERRORS},
    response_class=Response,
    summary="Download the RFC 3161 time-stamp response",
)
def get_tsr(request: Request, principal: Reader, record_id: RecordId) -> Response:
    view, token = runtime_of(request).records.token(owner_of(principal), record_id)
    return Response(
        granted_response(token),
        media_type="application/timestamp-reply",
        headers={"Content-Disposition": attachment(f"{view.certificate_id}.tsr")},
    )


@router.get(
    "/timestamps/{timestamp_id}/proof",
    responses={200: {"content": {"application/json": {}}}, **ERRORS},
    response_class=Response,
    summary="Download the self-contained proof bundle",
)
def get_proof(request: Request, principal: Reader, record_id: RecordId) -> Response:
    view, bundle = runtime_of(request).proofs.bundle(owner_of(principal), record_id)
    # Canonical bytes: the verifier accepts a proof file only in exactly this form.
    return Response(
        canonical_json(bundle),
        media_type="application/json",
        headers={"Content-Disposition": attachment(f"{view.certificate_id}.proof.json")},
    )


@router.get(
    "/timestamps/{timestamp_id}/tlog-proof",
    responses={200: {"content": {"text/plain": {}}}, **ERRORS},
    response_class=Response,
    summary="The record's transparency-log proof (c2sp.org/tlog-proof)",
)
def get_tlog_proof(request: Request, principal: Reader, record_id: RecordId) -> Response:
    runtime = runtime_of(request)
    evidence = runtime.records.evidence(owner_of(principal), record_id)
    proof = (
        runtime.translog.tlog_proof(evidence.log_index) if evidence.log_index is not None else None
    )
    if proof is None:
        raise LogProofNotFound("This timestamp is not in a published log checkpoint yet.")
    return PlainTextResponse(proof)


class LogProofNotFound(NotFoundError):
    code = "LOG_PROOF_NOT_FOUND"


@router.get(
    "/timestamps/{timestamp_id}/certificate.pdf",
    responses={**PDF_RESPONSE, **ERRORS},
    response_class=Response,
    summary="Download the sealed certificate PDF",
)
def get_certificate_pdf(request: Request, principal: Reader, record_id: RecordId) -> Response:
    runtime = runtime_of(request)
    return pdf_response(runtime.certificate_pdfs.certificate(owner_of(principal), record_id))


@router.get("/me", response_model=AccountSummary, responses=ERRORS, summary="Who am I")
def whoami(principal: Reader) -> JSONResponse:
    return JSONResponse(
        {
            "account_id": principal.account_id,
            "account_name": principal.account_name,
            "plan": principal.plan.name,
            "mode": principal.mode,
            "scopes": sorted(principal.scopes),
            "monthly_limit": principal.plan.monthly_timestamps,
        }
    )
