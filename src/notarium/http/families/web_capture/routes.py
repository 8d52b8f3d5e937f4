"""The web capture certificates API (``/api/v1/certificates``, ``/api/v1/coverage``), as
the web capture document describes it: certify a URL, read it back, download the sealed
certificate PDF and the evidence package through pre-signed links."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from notarium.adapters.ratelimit.limiter import Bucket
from notarium.core.errors import NotariumError, ValidationError
from notarium.http.deps import api_principal, owner_of, runtime_of
from notarium.http.disposition import attachment
from notarium.http.errors import register_envelope, request_id_of, status_for
from notarium.http.families.web_capture import present
from notarium.http.families.web_capture.present import PREFIX
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
from notarium.products.web_capture.browser.errors import CaptureError, ServiceBusy
from notarium.products.web_capture.service import AssistanceRequired
from notarium.products.web_capture.values import DailyQuotaExceeded

router = APIRouter(prefix="/api/v1", tags=["web captures"])

CAPTURES = Bucket("capture-create", 30)
READS = Bucket("capture-read", 120)
BUSY_RETRY_AFTER = 30

# The document's vocabulary for the domain's shared codes, and the statuses it gives them.
_CODES: dict[str, tuple[str, int | None]] = {
    "AUTHENTICATION_REQUIRED": ("invalid_api_key", None),
    "INVALID_API_KEY": ("invalid_api_key", None),
    "API_KEY_REVOKED": ("invalid_api_key", None),
    "PLAN_NOT_ENTITLED": ("api_access_required", 402),
    "INSUFFICIENT_SCOPE": ("insufficient_scope", None),
    "PAYLOAD_TOO_LARGE": ("payload_too_large", None),
    "RATE_LIMITED": ("rate_limited", None),
    "INVALID_JSON": ("invalid_json", None),
    "INVALID_REQUEST": ("invalid_request", None),
    "NOT_FOUND": ("not_found", None),
    "INTERNAL_ERROR": ("internal_error", None),
    "capture_failed": ("capture_failed", 502),
    "certification_failed": ("certification_failed", 502),
    "service_busy": ("service_busy", 429),
    "bot_protection_blocked": ("bot_protection_blocked", 422),
}


def family_envelope(status: int, code: str, message: str, request_id: str) -> Response:
    mapped, override = _CODES.get(code, (code.lower(), None))
    if mapped.startswith("jwt_") or (status == 401 and mapped != "invalid_api_key"):
        # Every credential failure reads the same to a client of this family.
        mapped = "invalid_api_key"
    return JSONResponse(
        {"error": mapped, "message": message, "requestId": request_id},
        status_code=override or status,
    )


register_envelope(PREFIX, family_envelope)
register_envelope("/api/v1/coverage", family_envelope)
register_envelope("/files/captures/", family_envelope)


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


def _error(request: Request, error: NotariumError, **extra: Any) -> Response:
    response = family_envelope(status_for(error), error.code, error.message, request_id_of(request))
    if extra:
        body = json.loads(bytes(response.body))
        body.update(extra)
        response = JSONResponse(body, status_code=response.status_code)
    return response


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
    try:
        view = await runtime.webcaptures.certify(
            owner_of(principal), principal.plan, principal.key_id, payload.get("url")
        )
    except AssistanceRequired as blocked:
        return _error(
            request,
            blocked,
            protection=blocked.kind,
            assistedCaptureUrl=f"{runtime.settings.base_url}/assist/{blocked.grant.token}",
            assistedCaptureExpiresAt=iso_millis(blocked.grant.expires_at),
        )
    except ServiceBusy as busy:
        response = _error(request, busy)
        response.headers["Retry-After"] = str(BUSY_RETRY_AFTER)
        return response
    except DailyQuotaExceeded as exhausted:
        response = _error(request, exhausted)
        response.headers["Retry-After"] = str(exhausted.retry_after)
        return response
    except CaptureError as failed:
        return _error(request, failed)
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
