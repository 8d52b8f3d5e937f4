"""Web captures as the web capture document's JSON (camelCase, millisecond timestamps)."""

from __future__ import annotations

from typing import Any

from notarium.http.formats import iso_millis
from notarium.products.web_capture.coverage import Coverage
from notarium.products.web_capture.values import WebCaptureView

PREFIX = "/api/v1/certificates"


def links(view: WebCaptureView) -> dict[str, str]:
    base = f"{PREFIX}/{view.recording_id}"
    return {"self": base, "certificate": f"{base}/download", "evidence": f"{base}/evidence"}


def created(view: WebCaptureView) -> dict[str, Any]:
    return {
        "certificateId": view.certificate_id,
        "recordingId": view.recording_id,
        "url": view.url,
        "finalUrl": view.final_url,
        "status": "ready",
        "links": links(view),
    }


def meta(view: WebCaptureView) -> dict[str, Any]:
    return {
        **created(view),
        "type": "webcapture",
        "title": view.title,
        "assisted": view.assisted,
        "testMode": view.mode == "test",
        "createdAt": iso_millis(view.created_at),
        "recordStatus": view.record_status,
    }


def coverage(report: Coverage) -> dict[str, Any]:
    return {
        "url": report.url,
        "domain": report.domain,
        "reachable": report.reachable,
        "blocked": report.blocked,
        "protection": report.protection,
        "status": report.status,
        "detail": report.detail,
        "billed": False,
        "checkedAt": iso_millis(report.checked_at),
    }
