"""The L402 document's JSON for each result: ``success`` in every body, and for the
402 challenge ``http_code``, the invoice, the macaroon and the ``WWW-Authenticate``
header that carries them."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse, Response

from notarium.products.l402.headers import challenge_header
from notarium.products.l402.results import (
    PaymentChallenge,
    Result,
    StatusResult,
    TimestampIssued,
    UpdateApplied,
    VerifyResult,
)

ALREADY_TIMESTAMPED = (
    "This hash is already timestamped; nothing was charged. "
    "Add notifications with l402_timestamp_update."
)


def timestamp_body(result: TimestampIssued) -> dict[str, Any]:
    body: dict[str, Any] = {
        "success": True,
        "timestamp_id": result.timestamp_id,
        "hash": result.sha256,
        "status": result.status,
    }
    if result.already_timestamped:
        body["already_timestamped"] = True
        body["message"] = ALREADY_TIMESTAMPED
        return body
    if result.file is not None:
        body["file"] = {
            "filename": result.file.filename,
            "size": result.file.size,
            "mime": result.file.mime,
            "stored": result.file.stored,
        }
        body["message"] = "File hashed and queued for Bitcoin blockchain anchoring."
    else:
        body["message"] = "Hash queued for Bitcoin blockchain anchoring."
    if result.webhook_secret is not None:
        body["webhook_secret"] = result.webhook_secret
    return body


def update_body(result: UpdateApplied) -> dict[str, Any]:
    body: dict[str, Any] = {
        "success": True,
        "timestamp_id": result.timestamp_id,
        "updated": dict(result.updated),
        "message": "Notification settings updated.",
    }
    if result.webhook_secret is not None:
        body["webhook_secret"] = result.webhook_secret
    return body


def verify_body(result: VerifyResult) -> dict[str, Any]:
    if not result.found:
        return {"success": True, "verified": False, "found": False}
    if result.anchor is not None:
        return {
            "success": True,
            "verified": True,
            "found": True,
            "hash": result.sha256,
            "txid": result.anchor.txid,
            "block_height": result.anchor.block_height,
            "op_return": result.anchor.op_return,
            "explorer_url": result.anchor.explorer_url,
        }
    return {
        "success": True,
        "verified": False,
        "found": True,
        "hash": result.sha256,
        "status": result.status,
    }


def status_body(result: StatusResult) -> dict[str, Any]:
    return {
        "success": True,
        "status": result.status,
        "timestamp_id": result.timestamp_id,
        "hash": result.sha256,
        "txid": result.txid,
        "confirmations": result.confirmations,
        "block_height": result.block_height,
    }


def challenge(result: PaymentChallenge, request_id: str) -> Response:
    return JSONResponse(
        {
            "success": False,
            "http_code": 402,
            "error": "payment_required",
            "message": "Payment required",
            "invoice": result.invoice,
            "macaroon": result.macaroon,
            "amount_sats": result.amount_sats,
            "description": result.description,
            "request_id": request_id,
        },
        status_code=402,
        headers={"WWW-Authenticate": challenge_header(result.macaroon, result.invoice)},
    )


def response(result: Result, request_id: str) -> Response:
    if isinstance(result, PaymentChallenge):
        return challenge(result, request_id)
    if isinstance(result, TimestampIssued):
        return JSONResponse(timestamp_body(result))
    if isinstance(result, UpdateApplied):
        return JSONResponse(update_body(result))
    if isinstance(result, VerifyResult):
        return JSONResponse(verify_body(result))
    return JSONResponse(status_body(result))
