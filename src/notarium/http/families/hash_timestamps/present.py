"""Domain results as the hash timestamps document writes them."""

from __future__ import annotations

from typing import Any

from notarium.http.formats import iso_micros, iso_millis
from notarium.ledger.accounts.service import Principal
from notarium.ledger.records.values import Page, RecordView, Status

# The document's vocabulary has no `anchoring`: to its clients a record being anchored is
# still waiting for confirmation.
DOCUMENT_STATUS: dict[Status, str] = {
    "pending": "pending",
    "anchoring": "pending",
    "confirmed": "confirmed",
    "failed": "failed",
}


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


def listing(page: Page, base_url: str) -> dict[str, Any]:
    return {
        "data": [resource(view, base_url) for view in page.items],
        "total_count": page.total_count,
        "next_cursor": iso_micros(page.next_cursor) if page.next_cursor else None,
    }


def account_summary(principal: Principal) -> dict[str, Any]:
    return {
        "account_id": principal.account_id,
        "account_name": principal.account_name,
        "plan": principal.plan.name,
        "mode": principal.mode,
        "scopes": sorted(principal.scopes),
        "monthly_limit": principal.plan.monthly_timestamps,
    }
