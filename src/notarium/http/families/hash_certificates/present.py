"""Domain results as the hash certificates document's JSON: certificates, their public
verification, webhook endpoints and deliveries (camelCase, millisecond timestamps)."""

from __future__ import annotations

import base64
from typing import Any

from notarium.http.formats import iso_millis
from notarium.ledger.records.values import PUBLIC_STATUS, PublicRecord, RecordView
from notarium.notify.webhooks.service import DeliveryView, EndpointView


def certificate(view: RecordView, base_url: str) -> dict[str, Any]:
    return {
        "certificateId": view.id,
        "publicId": view.certificate_id,
        "sha256Hash": view.sha256,
        "fileName": view.filename,
        "fileSize": view.file_size_bytes,
        "fileType": view.file_type,
        "status": PUBLIC_STATUS[view.status],
        "testMode": view.mode == "test",
        # `{}` rather than null when none was given: the document's fan-out handler
        # destructures `data.metadata` unconditionally.
        "metadata": view.metadata or {},
        "metadataPublic": view.public_metadata,
        "createdAt": iso_millis(view.created_at),
        "confirmedAt": iso_millis(view.confirmed_at),
        "bitcoinTxid": view.blockchain_tx,
        "bitcoinBlock": view.bitcoin_block,
        "verifyUrl": f"{base_url}/v1/verify/{view.certificate_id}",
        "proofUrl": f"{base_url}/v1/certificates/{view.id}/proof",
        "otsUrl": f"{base_url}/v1/certificates/{view.id}/ots",
    }


def public_certificate(record: PublicRecord) -> dict[str, Any]:
    body: dict[str, Any] = {
        "publicId": record.certificate_id,
        "sha256Hash": record.sha256,
        "status": PUBLIC_STATUS[record.status],
        "testMode": False,
        "createdAt": iso_millis(record.created_at),
        "confirmedAt": iso_millis(record.confirmed_at),
        "bitcoinTxid": record.blockchain_tx,
        "bitcoinBlock": record.bitcoin_block,
        "timestampToken": base64.b64encode(record.tsa_token).decode(),
    }
    if record.filename is not None:
        body["fileName"] = record.filename
        body["metadata"] = record.metadata or {}
    return body


def verification(sha256: str | None, found: list[PublicRecord]) -> dict[str, Any]:
    return {
        "verified": bool(found),
        "sha256Hash": sha256,
        "certificates": [public_certificate(record) for record in found],
    }


def endpoint(view: EndpointView) -> dict[str, Any]:
    return {
        "id": view.id,
        "url": view.url,
        "events": list(view.events),
        "mode": view.mode,
        "active": view.active,
        "disabledReason": view.disabled_reason,
        "createdAt": iso_millis(view.created_at),
        "updatedAt": iso_millis(view.updated_at),
    }


def delivery(view: DeliveryView) -> dict[str, Any]:
    return {
        "id": view.id,
        "eventId": view.event_id,
        "event": view.event_type,
        "state": view.state,
        "createdAt": iso_millis(view.created_at),
        "deliveredAt": iso_millis(view.delivered_at),
        "nextAttemptAt": iso_millis(view.next_attempt_at),
        "attempts": [
            {
                "at": iso_millis(a.attempted_at),
                "status": a.status,
                "latencyMs": a.latency_ms,
                "error": a.error,
            }
            for a in view.attempts
        ],
    }
