"""The web capture certificates API (``/api/v1/certificates``, ``/api/v1/coverage``), as
the web capture document describes it: certify a URL, read it back, download the sealed
certificate PDF and the evidence package through pre-signed links."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from notarium.adapters.ratelimit.limiter import Bucket
from notarium.core.errors import ValidationError
from notarium.http.deps import api_principal, owner_of, runtime_of
from notarium.http.disposition import attachment
from notarium.http.families.web_capture import present
from notarium.http.families.web_capture.schemas import (
    CaptureErrorBody,
    CertificateCreated,
    CertificateList,
    CertificateMeta,
    CoverageReport,
)
from notarium.http.formats import iso_millis, parse_json_object
from notarium.ledger.accounts.scopes import CERTIFICATES_READ, CERTIFICATES_WRITE
from notarium.ledger.accounts.service import Principal

router = APIRouter(prefix="/api/v1", tags=["web captures"])

CAPTURES = Bucket("capture-create", 30)
READS = Bucket("capture-read", 120)


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"model": CaptureErrorBody, "description": "Error"} for s in statuses}


def _json_request(
    properties: dict[str, Any], *, required: list[str] | None = None
) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema}},
        }
    }


def _redirect_responses() -> dict[int | str, dict[str, Any]]:
    responses = _errors(400, 401, 402, 403, 404, 429)
    responses[302] = {"description": "Redirect to a pre-signed, expiring download URL"}
    return responses


Writer = Annotated[Principal, Depends(api_principal(CERTIFICATES_WRITE, per_key=(CAPTURES,)))]
Reader = Annotated[Principal, Depends(api_principal(CERTIFICATES_READ, per_key=(READS,)))]


async def _json_body(request: Request) -> dict[str, Any]:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        raise ValidationError(
            "Send JSON with `Content-Type: application/json`.", code="INVALID_JSON"
        )
    # Unstorable text (NUL, a lone surrogate) in the address is an invalid URL.
    return parse_json_object(
        await request.body(), field_codes={"url": "invalid_url", "domain": "invalid_url"}
    )


@router.post(
    "/certificates",
    status_code=201,
    response_model=CertificateCreated,
    responses=_errors(400, 401, 402, 403, 413, 422, 429, 502),
    openapi_extra=_json_request({"url": {"type": "string", "format": "uri"}}, required=["url"]),
    summary="Certify a URL (blocks until the certificate is ready)",
)
async def create_certificate(request: Request, principal: Writer) -> Response:
    runtime = runtime_of(request)
    payload = await _json_body(request)
    view = await runtime.webcaptures.certify(
        owner_of(principal), principal.plan, principal.key_id, payload.get("url")
    )
    return JSONResponse(present.created(view), status_code=201)


@router.get(
    "/certificates",
    response_model=CertificateList,
    responses=_errors(400, 401, 402, 403, 429),
    summary="List the account's web certificates, newest first",
)
def list_certificates(
    request: Request,
    principal: Reader,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    before: Annotated[datetime | None, Query(description="createdAt cursor")] = None,
) -> Response:
    runtime = runtime_of(request)
    owner = owner_of(principal)
    if before is not None and before.tzinfo is None:
        before = before.replace(tzinfo=UTC)  # a cursor without an offset is UTC, as ours are
    views = runtime.webcaptures.page(owner, before=before, limit=limit + 1)
    more = len(views) > limit
    views = views[:limit]
    data = [present.meta(v) for v in views]
    cursor = iso_millis(views[-1].created_at) if more and views else None
    return JSONResponse({"data": data, "nextCursor": cursor})


@router.get(
    "/certificates/{recording_id}",
    response_model=CertificateMeta,
    responses=_errors(400, 401, 402, 403, 404, 429),
    summary="A web certificate's metadata",
)
def get_certificate(request: Request, principal: Reader, recording_id: str) -> Response:
    view = runtime_of(request).webcaptures.get(owner_of(principal), recording_id)
    return JSONResponse(present.meta(view))


def _signed_redirect(
    request: Request, principal: Principal, recording_id: str, name: str
) -> Response:
    runtime = runtime_of(request)
    view = runtime.webcaptures.get(owner_of(principal), recording_id)
    link = runtime.links.sign(f"/files/captures/{view.recording_id}/{name}")
    return RedirectResponse(f"{runtime.settings.base_url}{link.path}", status_code=302)


@router.get(
    "/certificates/{recording_id}/download",
    status_code=302,
    response_class=Response,
    responses=_redirect_responses(),
    summary="Download the sealed certificate PDF (302 to a pre-signed URL)",
)
def download(request: Request, principal: Reader, recording_id: str) -> Response:
    return _signed_redirect(request, principal, recording_id, "certificate.pdf")


@router.get(
    "/certificates/{recording_id}/evidence",
    status_code=302,
    response_class=Response,
    responses=_redirect_responses(),
    summary="Download the evidence package (302 to a pre-signed URL)",
)
def evidence(request: Request, principal: Reader, recording_id: str) -> Response:
    return _signed_redirect(request, principal, recording_id, "evidence.zip")


files = APIRouter(tags=["web captures"])


@files.get(
    "/files/captures/{recording_id}/{name}",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}, "application/zip": {}}},
        **_errors(400, 403, 404),
    },
    summary="A pre-signed download",
)
async def signed_file(
    request: Request,
    recording_id: str,
    name: str,
    expires: str | None = None,
    signature: str | None = None,
) -> Response:
    runtime = runtime_of(request)
    runtime.links.check(f"/files/captures/{recording_id}/{name}", expires, signature)
    document = await asyncio.to_thread(runtime.capture_downloads.download, recording_id, name)
    return Response(
        document.content,
        media_type=document.media_type,
        headers={
            "Content-Disposition": attachment(document.name),
            "Cache-Control": "private, no-store",
        },
    )


COVERAGE = Bucket("capture-coverage", 30)
Coverer = Annotated[Principal, Depends(api_principal(CERTIFICATES_READ, per_key=(COVERAGE,)))]


@router.post(
    "/coverage",
    response_model=CoverageReport,
    responses=_errors(400, 401, 402, 403, 413, 429),
    openapi_extra=_json_request(
        {"domain": {"type": "string"}, "url": {"type": "string", "format": "uri"}}
    ),
    summary="Would captures at this domain or URL be blocked? (never billed)",
)
async def coverage(request: Request, principal: Coverer) -> Response:
    runtime = runtime_of(request)
    payload = await _json_body(request)
    checker = runtime.webcaptures.coverage
    target = checker.target(payload.get("domain"), payload.get("url"))
    report = await asyncio.to_thread(checker.check, target)
    return JSONResponse(present.coverage(report))
