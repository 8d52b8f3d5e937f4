"""Status-change notifications of L402 timestamps: the document's webhook payload,
delivered through notarium's webhook outbox and delivery worker (signed, retried, and
sent only where the egress policy allows), and a confirmation e-mail through a mail
outbox. Both are written in the transaction that changed the record's status, so no
notification is lost between the change and its delivery.

Each timestamp with a ``webhook_url`` gets its own endpoint row under the L402 account,
subscribed to no account-wide event, with its own signing secret, handed to the client
once in the answer that set the URL.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from notarium.adapters.pki.secretbox import SecretBox
from notarium.adapters.store.db import SessionFactory
from notarium.core.clock import Clock
from notarium.formats.webhook_signature import new_secret
from notarium.ledger.events import ANCHORING, CONFIRMED, FAILED
from notarium.notify.mail.ports import Mailer
from notarium.notify.webhooks.delivery import next_attempt_delay
from notarium.products.l402.repository import L402Repository, RecordFacts
from notarium.products.l402.status import public_status

log = logging.getLogger("notarium.products.l402")

EVENT = "status_change"
CHUNK = 500
_ANNOUNCED = (ANCHORING, CONFIRMED, FAILED)


def status_payload(record: RecordFacts) -> dict[str, Any]:
    return {
        "event": EVENT,
        "timestamp_id": record.timestamp_id,
        "hash": record.sha256,
        "status": public_status(record.status),
        "txid": record.txid,
        "block_height": record.block_height,
    }


@dataclass(frozen=True)
class MailText:
    subject: str
    body: str


def confirmation_mail(record: RecordFacts, explorer_url: str, organisation: str) -> MailText:
    lines = [
        f"Your {organisation} timestamp {record.timestamp_id} is confirmed in the Bitcoin "
        "blockchain.",
        "",
        f"SHA-256:      {record.sha256}",
        f"Transaction:  {record.txid or 'n/a'}",
        f"Block height: {record.block_height if record.block_height is not None else 'n/a'}",
    ]
    if record.txid:
        lines.append(f"Explorer:     {explorer_url}{record.txid}")
    lines += [
        "",
        'Check it any time, free: POST /api/l402 {"action":"l402_timestamp_verify",'
        f'"hash":"{record.sha256}"}}',
    ]
    return MailText(f"Timestamp {record.timestamp_id} confirmed", "\n".join(lines) + "\n")


class L402Notifier:
    """An event sink that writes the L402 notifications of the records that have any."""

    def __init__(self, clock: Clock, *, explorer_url: str, organisation: str) -> None:
        self.clock = clock
        self.explorer_url = explorer_url
        self.organisation = organisation

    def emit(self, session: Session, event_type: str, record_ids: Sequence[str]) -> None:
        if event_type not in _ANNOUNCED:
            return
        for start in range(0, len(record_ids), CHUNK):
            self._announce(session, event_type, record_ids[start : start + CHUNK])

    def _announce(self, session: Session, event_type: str, record_ids: Sequence[str]) -> None:
        rows = L402Repository(session)
        announced = rows.announced(record_ids)
        if not announced:
            return
        now = self.clock.now()
        for settings, record in announced:
            if settings.webhook_endpoint_id is not None:
                rows.add_event(
                    "msg_" + uuid.uuid4().hex,
                    record,
                    EVENT,
                    json.dumps(status_payload(record), separators=(",", ":")).encode(),
                    settings.webhook_endpoint_id,
                    now,
                )
            if event_type == CONFIRMED and settings.notification_email is not None:
                text = confirmation_mail(record, self.explorer_url, self.organisation)
                rows.add_mail(record.id, settings.notification_email, text.subject, text.body, now)


def attach_webhook(
    rows: L402Repository, box: SecretBox, account_id: str, url: str, now: datetime
) -> tuple[str, str]:
    """A new endpoint for one timestamp; its id and its signing secret."""
    endpoint_id = "wh_" + uuid.uuid4().hex
    secret = new_secret()
    rows.add_endpoint(
        endpoint_id, account_id, url, box.seal(secret, context=endpoint_id.encode()), now
    )
    return endpoint_id, secret


def detach_webhook(rows: L402Repository, endpoint_id: str | None) -> None:
    # Undelivered events for the old URL go with it: they were meant for it alone.
    if endpoint_id is not None:
        rows.delete_endpoint(endpoint_id)


@dataclass(frozen=True)
class _Claim:
    id: int
    attempts: int
    recipient: str
    subject: str
    body: str


class MailOutbox:
    """Sends the pending confirmation e-mails: leased rows, so a worker that dies
    mid-send loses none, retried on the webhook schedule (about three days)."""

    def __init__(self, sessions: SessionFactory, clock: Clock, mailer: Mailer | None) -> None:
        self.sessions = sessions
        self.clock = clock
        self.mailer = mailer

    def deliver_due(self, *, limit: int = 16) -> int:
        if self.mailer is None:
            return 0
        claims = self._claim(limit)
        for claim in claims:
            self._send(self.mailer, claim)
        return len(claims)

    def _claim(self, limit: int) -> list[_Claim]:
        now = self.clock.now()
        with self.sessions.begin() as session:
            rows = L402Repository(session).lease_due_mail(now, now + timedelta(minutes=5), limit)
            return [_Claim(r.id, r.attempts, r.recipient, r.subject, r.body) for r in rows]

    def _send(self, mailer: Mailer, claim: _Claim) -> None:
        error: str | None = None
        try:
            mailer.send(claim.recipient, claim.subject, claim.body)
        except Exception as exc:  # any failure is retried, then given up on
            error = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            log.warning("L402 mail to %s failed: %s", claim.recipient, error)
        now = self.clock.now()
        attempts = claim.attempts + 1
        with self.sessions.begin() as session:
            rows = L402Repository(session)
            row = rows.locked_mail(claim.id)
            if row is None or row.state != "pending":
                return
            if error is None:
                rows.mail_sent(claim.id, attempts, now)
                return
            delay = next_attempt_delay(attempts)
            retry_at = now + timedelta(seconds=delay) if delay is not None else None
            rows.mail_failed(claim.id, attempts, error[:2000], retry_at)
