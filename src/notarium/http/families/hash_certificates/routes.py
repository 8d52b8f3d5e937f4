"""The hash certificates API (``/v1/certificates``, ``/v1/verify``), as
``hash-certificates-webhooks-api.txt`` describes it: camelCase, test and live keys,
metadata echoed everywhere."""

from __future__ import annotations

import base64
import re
import uuid
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from notarium.adapters.ratelimit.limiter import Bucket
from notarium.app.runtime import Runtime
from notarium.formats.canonical import canonical_json
from notarium.http.deps import (
    api_principal,
    client_ip,
    limiter_of,
    owner_of,
    record_rate,
    runtime_of,
)
from notarium.http.disposition import attachment
from notarium.http.errors import request_id_of
from notarium.http.families.hash_certificates import present
from notarium.http.families.hash_certificates.schemas import (
    Certificate,
    CertificateCreate,
    CertificateList,
    FamilyError,
    InvalidField,
    VerifyResult,
)
from notarium.http.formats import iso_micros, parse_iso8601, parse_json_object
from notarium.http.pdf_download import PDF_RESPONSE, pdf_response
from notarium.ledger.accounts.scopes import CERTIFICATES_READ, CERTIFICATES_WRITE
from notarium.ledger.accounts.service import Principal
from notarium.ledger.records.errors import DuplicateRecord, RecordNotFound
from notarium.ledger.records.values import RecordView

router = APIRouter(prefix="/v1", tags=["certificates"])

LIST = Bucket("v1-list", 120)
CREATE = Bucket("v1-create", 30)
VERIFY = Bucket("v1-verify-ip", 30)
CREATE_PER_IP = Bucket("v1-create-ip", 60)
GENERAL = Bucket("v1-general", 120)

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": FamilyError, "description": text}
    for status, text in {
        400: "Invalid input",
        401: "Missing or invalid API key",
        403: "Plan not entitled or scope missing",
        404: "Not found",
        409: "Duplicate",
        413: "Body too large",
        429: "Rate limit or quota reached",
        500: "Internal error",
    }.items()
}


# Unstorable text (NUL, a lone surrogate) in a field is that field's error.
FIELD_CODES = {
    "sha256Hash": "invalid_hash",
    "fileName": "INVALID_FILE_NAME",
    "fileType": "INVALID_FILE_TYPE",
    "metadata": "INVALID_METADATA",
}


Reader = Annotated[Principal, Depends(api_principal(CERTIFICATES_READ, per_key=(GENERAL,)))]
Lister = Annotated[Principal, Depends(api_principal(CERTIFICATES_READ, per_key=(LIST,)))]
Writer = Annotated[
    Principal,
    Depends(api_principal(CERTIFICATES_WRITE, per_key=(CREATE,), per_ip=(CREATE_PER_IP,))),
]


def _create(
    runtime: Runtime, principal: Principal, body: bytes, content_type: str, request_id: str
) -> Response:
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise InvalidField("Send JSON with `Content-Type: application/json`.", code="INVALID_JSON")
    new = CertificateCreate.model_validate(parse_json_object(body, field_codes=FIELD_CODES))
    try:
        view = runtime.records.create(owner_of(principal), principal.plan, new.new_record())
    except DuplicateRecord as duplicate:
        return _duplicate(duplicate, request_id)
    return JSONResponse(present.certificate(view, runtime.settings.base_url), status_code=201)


def _duplicate(duplicate: DuplicateRecord, request_id: str) -> Response:
    """409 naming the certificate that already holds this hash and metadata, so a client
    that lost the first answer can carry on with it."""
    return JSONResponse(
        {
            "error": {
                "code": "duplicate_certificate",
                "message": (
                    f"This hash was already certified with the same metadata in this mode, "
                    f"as certificate {duplicate.existing_id}; reuse it, or send different "
                    "metadata to certify the hash for another purpose."
                ),
                "requestId": request_id,
                "certificateId": duplicate.existing_id,
                "publicId": duplicate.existing_certificate_id,
            }
        },
        status_code=409,
    )


@router.post(
    "/certificates",
    status_code=201,
    response_model=Certificate,
    responses=ERROR_RESPONSES,
    summary="Certify a SHA-256 hash",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": CertificateCreate.model_json_schema()}},
        }
    },
)
async def create_certificate(request: Request, principal: Writer) -> Response:
    body = await request.body()
    return await run_in_threadpool(
        _create,
        runtime_of(request),
        principal,
        body,
        request.headers.get("content-type", ""),
        request_id_of(request),
    )


@router.get(
    "/certificates",
    response_model=CertificateList,
    responses=ERROR_RESPONSES,
    summary="List certificates, newest first",
)
def list_certificates(
    request: Request,
    principal: Lister,
    limit: int = Query(default=20, ge=1, le=100),
    cursor: str | None = None,
) -> JSONResponse:
    before = None
    if cursor is not None:
        try:
            before = parse_iso8601(base64.urlsafe_b64decode(cursor.encode()).decode())
        except (ValueError, UnicodeDecodeError):
            raise InvalidField(
                "`cursor` must be a `nextCursor` from a previous page.", code="INVALID_CURSOR"
            ) from None
    runtime = runtime_of(request)
    page = runtime.records.page(owner_of(principal), statuses=None, before=before, limit=limit)
    next_cursor = (
        base64.urlsafe_b64encode(iso_micros(page.next_cursor).encode()).decode()
        if page.next_cursor
        else None
    )
    return JSONResponse(
        {
            "data": [present.certificate(v, runtime.settings.base_url) for v in page.items],
            "hasMore": next_cursor is not None,
            "nextCursor": next_cursor,
        }
    )


def _owned(request: Request, principal: Principal, certificate_id: str) -> RecordView:
    records = runtime_of(request).records
    owner = owner_of(principal)
    try:
        return records.get(owner, str(uuid.UUID(certificate_id)))
    except ValueError:
        return records.get_by_public_id(owner, certificate_id.upper())


@router.get(
    "/certificates/{certificate_id}",
    response_model=Certificate,
    responses=ERROR_RESPONSES,
    summary="Fetch a certificate by certificateId or publicId",
)
def get_certificate(request: Request, principal: Reader, certificate_id: str) -> JSONResponse:
    view = _owned(request, principal, certificate_id)
    return JSONResponse(present.certificate(view, runtime_of(request).settings.base_url))


@router.get(
    "/certificates/{certificate_id}/proof",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}, **ERROR_RESPONSES},
    summary="The certificate's proof bundle",
)
def get_proof(request: Request, principal: Reader, certificate_id: str) -> Response:
    view = _owned(request, principal, certificate_id)
    _, bundle = runtime_of(request).proofs.bundle(owner_of(principal), view.id)
    return Response(canonical_json(bundle), media_type="application/json")


@router.get(
    "/certificates/{certificate_id}/ots",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}, **ERROR_RESPONSES},
    summary="The certificate's OpenTimestamps file",
)
def get_ots(request: Request, principal: Reader, certificate_id: str) -> Response:
    view = _owned(request, principal, certificate_id)
    _, ots = runtime_of(request).proofs.ots_file(owner_of(principal), view.id)
    return Response(
        ots,
        media_type="application/octet-stream",
        headers={"Content-Disposition": attachment(f"{view.certificate_id}.ots")},
    )


@router.get(
    "/certificates/{certificate_id}/certificate.pdf",
    response_class=Response,
    responses={**PDF_RESPONSE, **ERROR_RESPONSES},
    summary="The certificate as a sealed PDF",
)
def get_certificate_pdf(request: Request, principal: Reader, certificate_id: str) -> Response:
    view = _owned(request, principal, certificate_id)
    runtime = runtime_of(request)
    return pdf_response(runtime.certificate_pdfs.certificate(owner_of(principal), view.id))


@router.get(
    "/verify/{key}",
    response_model=VerifyResult,
    responses={
        **ERROR_RESPONSES,
        404: {"model": VerifyResult, "description": "Never certified here"},
    },
    summary="Public: was this hash or publicId certified, when, and how proven",
)
def verify(request: Request, key: str) -> JSONResponse:
    record_rate(request, limiter_of(request).hit(VERIFY, client_ip(request)))
    records = runtime_of(request).records
    if _HEX64.match(key):
        digest = key.lower()
        found = records.public_by_hash(digest)
        return JSONResponse(present.verification(digest, found), status_code=200 if found else 404)
    try:
        record = records.public_by_certificate_id(key.upper())
    except RecordNotFound:
        return JSONResponse(present.verification(None, []), status_code=404)
    return JSONResponse(present.verification(record.sha256, [record]))


@router.get(
    "/openapi.yaml",
    response_class=Response,
    responses={200: {"content": {"application/yaml": {}}}},
    summary="This API's OpenAPI document, as YAML",
)
def openapi_yaml(request: Request) -> Response:
    document = request.app.openapi()
    return Response(
        yaml.safe_dump(document, sort_keys=False, allow_unicode=True), media_type="application/yaml"
    )
