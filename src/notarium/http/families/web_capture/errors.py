"""The web capture document's errors: ``{"error", "message", "requestId"}`` with lower
snake case codes, a few renamed to the document's vocabulary, and the statuses it
gives capture failures (502), bot protection (422) and a busy browser pool (429)."""

from __future__ import annotations

from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from notarium.core.errors import AuthenticationError
from notarium.formats.evidence.errors import EvidenceBuildError
from notarium.http.deps import PlanNotEntitled
from notarium.http.error_codes import Wire
from notarium.http.family import LEGACY, ErrorMap
from notarium.http.formats import iso_millis
from notarium.products.web_capture.browser.errors import (
    BotProtectionBlocked,
    CaptureError,
    ServiceBusy,
)
from notarium.products.web_capture.service import AssistanceRequired
from notarium.products.web_capture.values import CertificationFailed, DailyQuotaExceeded

BUSY_RETRY_AFTER = 30
# Every credential failure reads the same to a client of this family.
INVALID_API_KEY = "invalid_api_key"


def envelope(status: int, code: str, message: str, request_id: str) -> Response:
    return JSONResponse(
        {"error": code.lower(), "message": message, "requestId": request_id},
        status_code=status,
    )


def _authentication(error: BaseException) -> Wire:
    wire = LEGACY.lookup(error)
    return Wire(401, INVALID_API_KEY, wire.headers)


def _http(error: BaseException) -> Wire:
    wire = LEGACY.lookup(error)
    return Wire(wire.status, INVALID_API_KEY, wire.headers) if wire.status == 401 else wire


def _assistance(error: BaseException) -> Wire:
    assert isinstance(error, AssistanceRequired)
    return Wire(
        422,
        fields={
            "protection": error.kind,
            "assistedCaptureUrl": error.link,
            "assistedCaptureExpiresAt": iso_millis(error.grant.expires_at),
        },
    )


def _daily_quota(error: BaseException) -> Wire:
    assert isinstance(error, DailyQuotaExceeded)
    return Wire(429, headers={"Retry-After": str(error.retry_after)})


ERRORS = ErrorMap(
    {
        AuthenticationError: _authentication,
        HTTPException: _http,
        PlanNotEntitled: Wire(402, "api_access_required"),
        DailyQuotaExceeded: _daily_quota,
        CaptureError: Wire(502),
        BotProtectionBlocked: Wire(422),
        AssistanceRequired: _assistance,
        ServiceBusy: Wire(429, headers={"Retry-After": str(BUSY_RETRY_AFTER)}),
        CertificationFailed: Wire(502),
        EvidenceBuildError: Wire(502),
    }
)
