"""The webhook outbox: events and their per-endpoint deliveries, written in the same
transaction as the record change they report."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from notarium.adapters.store.models import Record, WebhookDelivery, WebhookEndpoint, WebhookEvent
from notarium.core.clock import Clock
from notarium.core.timefmt import iso_millis
from notarium.ledger.records.values import PUBLIC_STATUS

CHUNK = 500
_INSERT_EVENTS = insert(cast(Table, WebhookEvent.__table__))
_INSERT_DELIVERIES = insert(cast(Table, WebhookDelivery.__table__))


def event_payload(event_type: str, record: Record, now: datetime) -> dict[str, Any]:
    """The document's payload: ``event``, ``timestamp``, ``data`` with the certificate's
    ids, status, file name, hash, mode and metadata (echoed unchanged), plus the anchor
    facts once confirmed."""
    return {
        "event": event_type,
        "timestamp": iso_millis(now),
        "data": {
            "certificateId": record.id,
            "publicId": record.certificate_id,
            "status": PUBLIC_STATUS[record.status],
            "fileName": record.filename,
            "sha256Hash": record.sha256,
            "testMode": record.mode == "test",
            # Never null: receivers destructure it (the document's fan-out handler does).
            "metadata": record.metadata_json or {},
            "confirmedAt": iso_millis(record.confirmed_at),
            "bitcoinTxid": record.blockchain_tx,
            "bitcoinBlock": record.bitcoin_block,
        },
    }


class OutboxSink:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def emit(self, session: Session, event_type: str, record_ids: Sequence[str]) -> None:
        now = self.clock.now()
        for start in range(0, len(record_ids), CHUNK):
            self._emit_chunk(session, event_type, record_ids[start : start + CHUNK], now)

    def _emit_chunk(
        self, session: Session, event_type: str, record_ids: Sequence[str], now: datetime
    ) -> None:
        rows = session.scalars(select(Record).where(Record.id.in_(record_ids))).all()
        accounts = {row.account_id for row in rows}
        if not accounts:
            return
        subscribed: dict[tuple[str, str], list[str]] = defaultdict(list)
        for endpoint in session.scalars(
            select(WebhookEndpoint).where(
                WebhookEndpoint.account_id.in_(accounts), WebhookEndpoint.active.is_(True)
            )
        ):
            if event_type in endpoint.events:
                subscribed[(endpoint.account_id, endpoint.mode)].append(endpoint.id)
        events: list[dict[str, Any]] = []
        deliveries: list[dict[str, Any]] = []
        for row in rows:
            endpoints = subscribed.get((row.account_id, row.mode))
            if not endpoints:
                continue
            # The id is the Standard Webhooks `webhook-id`: stable across retries, so a
            # receiver can drop a delivery it has already processed.
            event_id = "msg_" + uuid.uuid4().hex
            body = json.dumps(event_payload(event_type, row, now), separators=(",", ":"))
            events.append(
                {
                    "id": event_id,
                    "account_id": row.account_id,
                    "mode": row.mode,
                    "type": event_type,
                    "body": body.encode(),
                    "created_at": now,
                }
            )
            deliveries.extend(
                {
                    "event_id": event_id,
                    "endpoint_id": endpoint_id,
                    "state": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for endpoint_id in endpoints
            )
        if events:
            session.execute(_INSERT_EVENTS, events)
            session.execute(_INSERT_DELIVERIES, deliveries)
