"""The capture facts as JSON values: what the WARC metadata record and the manifest state.

Only strings, integers, booleans, lists and objects appear, so the result is valid input
for RFC 8785 canonicalisation (which refuses floats): durations become whole milliseconds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from notarium.core.timefmt import iso_millis
from notarium.formats.evidence.capture_result import CaptureResult, TlsDetails
from notarium.formats.evidence.errors import EvidenceBuildError


def iso_time(instant: datetime) -> str:
    """UTC with milliseconds and ``Z``, as records and proofs write times."""
    if instant.tzinfo is None:
        raise EvidenceBuildError("capture times must be timezone-aware")
    return iso_millis(instant)


def _tls(tls: TlsDetails | None) -> dict[str, str] | None:
    if tls is None:
        return None
    return {
        "protocol": tls.protocol,
        "cipher": tls.cipher,
        "subject_name": tls.subject_name,
        "issuer": tls.issuer,
        "valid_from": iso_time(tls.valid_from),
        "valid_to": iso_time(tls.valid_to),
    }


def capture_facts(result: CaptureResult) -> dict[str, Any]:
    """Everything the capture asserts about the page, apart from the artifacts themselves."""
    width, height = result.viewport
    return {
        "requested_url": result.requested_url,
        "final_url": result.final_url,
        "title": result.title,
        "started": iso_time(result.started),
        "finished": iso_time(result.finished),
        "viewport": {"width": int(width), "height": int(height)},
        "user_agent": result.user_agent,
        "browser_version": result.browser_version,
        "redirects": [
            {"url": r.url, "status": int(r.status), "location": r.location}
            for r in result.redirects
        ],
        "server_ips": list(result.server_ips),
        "tls": _tls(result.tls),
        "consent_dismissed": list(result.consent_dismissed),
        "assisted": bool(result.assisted),
        "blocked_requests": list(result.blocked_requests),
        "exchange_count": len(result.exchanges),
        "final_status": int(result.final_status),
        "page_loaded": bool(result.page_loaded),
        "timings": [
            {"step": t.step, "milliseconds": round(t.milliseconds)} for t in result.timings
        ],
    }
