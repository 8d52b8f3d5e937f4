"""The hash timestamps API, route for route as ``hash-timestamps-api.txt`` describes it."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from notarium.core.hashing.sha256 import normalize_sha256_hex
from notarium.formats.canonical import canonical_json
from notarium.formats.rfc3161.reply import granted_response
from notarium.http import fields
from notarium.http.deps import (
    CREATE_PER_IP,
    CREATE_PER_KEY,
    GENERAL,
    AppSettings,
    CertificatePdfs,
    Proofs,
    Records,
    TransparencyLogs,
    api_principal,
    owner_of,
)
from notarium.http.disposition import attachment
from notarium.http.families.hash_timestamps.errors import InvalidField, LogProofNotFound
from notarium.http.families.hash_timestamps.present import account_summary, listing, resource
from notarium.http.families.hash_timestamps.schemas import (
    AccountSummary,
    TimestampCreate,
    TimestampList,
    TimestampResource,
)
from notarium.http.formats import parse_iso8601, parse_json_object
from notarium.http.idempotency import IdempotencyScope, idempotent
from notarium.http.openapi_responses import error_responses
from notarium.http.pdf_download import PDF_RESPONSE, pdf_response
from notarium.ledger.accounts.scopes import TIMESTAMPS_READ, TIMESTAMPS_WRITE
from notarium.ledger.accounts.service import Principal
from notarium.ledger.records.service import RecordService
from notarium.ledger.records.values import NewRecord, RecordView, Status

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

router = APIRouter(prefix="/api/v1", tags=["timestamps"])

CREATOR = api_principal(
    TIMESTAMPS_WRITE, per_key=(GENERAL, CREATE_PER_KEY), per_ip=(CREATE_PER_IP,)
)
Creator = Annotated[Principal, Depends(CREATOR)]
CreateKey = Annotated[IdempotencyScope, idempotent("timestamps.create", CREATOR)]

ERRORS = error_responses(400, 401, 403, 404, 409, 413, 422, 429, 500)

LIST_STATUSES: dict[str, tuple[Status, ...] | None] = {
    "all": None,
    # `anchoring` is a step on the way to confirmation, so the pending queue includes it.
    "pending": ("pending", "anchoring"),
    "confirmed": ("confirmed",),
    "failed": ("failed",),
}

# Unstorable text (NUL, a lone surrogate) in a field is that field's error.
FIELD_CODES = {
    "sha256_hash": "INVALID_SHA256_HASH",
    "filename": "INVALID_FILENAME",
    "file_type": "INVALID_FILE_TYPE",
}


def _invalid(code: str) -> fields.ErrorFactory:
    return lambda message: InvalidField(message, code=code)


def parse_new_record(payload: dict[str, Any]) -> NewRecord:
    return NewRecord(
        sha256=normalize_sha256_hex(payload.get("sha256_hash")),
        filename=fields.filename(payload.get("filename"), error=_invalid("INVALID_FILENAME")),
        file_size_bytes=fields.size(
            payload.get("file_size_bytes"), error=_invalid("INVALID_FILE_SIZE")
        ),
        file_type=fields.media_type(payload.get("file_type"), error=_invalid("INVALID_FILE_TYPE")),
        channel="timestamps",
    )


def parse_record_id(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidField("The timestamp id must be a UUID.", code="INVALID_ID") from None


def _create(
    records: RecordService,
    base_url: str,
    principal: Principal,
    body: bytes,
    content_type: str,
    key: IdempotencyScope,
) -> Response:
    media = content_type.split(";")[0].strip().lower()
    if media != "application/json":
        raise InvalidField(
            "Send the payload as JSON with `Content-Type: application/json`.",
            code="INVALID_JSON",
        )
    new = parse_new_record(parse_json_object(body, field_codes=FIELD_CODES))
    created: list[bytes] = []

    # The response is stored in the record's own transaction: if the process dies once
    # that commits, a retry with the key replays this 201 instead of running the create
    # again into DUPLICATE_TIMESTAMP.
    def store_response(session: Session, view: RecordView) -> None:
        payload = json.dumps(resource(view, base_url)).encode()
        key.complete_in(session, 201, payload)
        created.append(payload)

    records.create(owner_of(principal), principal.plan, new, also=store_response)
    return Response(created[-1], status_code=201, media_type="application/json")


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
    request: Request, principal: Creator, key: CreateKey, records: Records, settings: AppSettings
) -> Response:
    body = await request.body()
    return await run_in_threadpool(
        _create,
        records,
        settings.base_url,
        principal,
        body,
        request.headers.get("content-type", ""),
        key,
    )


@router.get(
    "/timestamps", response_model=TimestampList, responses=ERRORS, summary="List timestamps"
)
def list_timestamps(
    records: Records,
    settings: AppSettings,
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
    page = records.page(
        owner_of(principal), statuses=LIST_STATUSES[status], before=cursor, limit=size
    )
    return JSONResponse(listing(page, settings.base_url))


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
def get_timestamp(
    principal: Reader, record_id: RecordId, records: Records, settings: AppSettings
) -> JSONResponse:
    view = records.get(owner_of(principal), record_id)
    return JSONResponse(resource(view, settings.base_url))


@router.get(
    "/timestamps/{timestamp_id}/ots",
    responses={200: {"content": {"application/octet-stream": {}}}, **ERRORS},
    response_class=Response,
    summary="Download the OpenTimestamps proof",
)
def get_ots(principal: Reader, record_id: RecordId, proofs: Proofs) -> Response:
    view, ots = proofs.ots_file(owner_of(principal), record_id)
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
def get_tsr(principal: Reader, record_id: RecordId, records: Records) -> Response:
    view, token = records.token(owner_of(principal), record_id)
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
def get_proof(principal: Reader, record_id: RecordId, proofs: Proofs) -> Response:
    view, bundle = proofs.bundle(owner_of(principal), record_id)
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
def get_tlog_proof(
    principal: Reader, record_id: RecordId, records: Records, log: TransparencyLogs
) -> Response:
    evidence = records.evidence(owner_of(principal), record_id)
    proof = log.tlog_proof(evidence.log_index) if evidence.log_index is not None else None
    if proof is None:
        raise LogProofNotFound("This timestamp is not in a published log checkpoint yet.")
    return PlainTextResponse(proof)


@router.get(
    "/timestamps/{timestamp_id}/certificate.pdf",
    responses={**PDF_RESPONSE, **ERRORS},
    response_class=Response,
    summary="Download the sealed certificate PDF",
)
def get_certificate_pdf(
    principal: Reader, record_id: RecordId, certificates: CertificatePdfs
) -> Response:
    return pdf_response(certificates.certificate(owner_of(principal), record_id))


@router.get("/me", response_model=AccountSummary, responses=ERRORS, summary="Who am I")
def whoami(principal: Reader) -> JSONResponse:
    return JSONResponse(account_summary(principal))
