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

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from notarium.adapters.pki.secretbox import SecretBox
from notarium.adapters.store.db import SessionFactory
from notarium.adapters.store.models import (
    L402Mail,
    L402Timestamp,
    Record,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from notarium.core.clock import Clock
from notarium.formats.webhook_signature import new_secret
from notarium.ledger.events import ANCHORING, CONFIRMED, FAILED
from notarium.notify.mail.ports import Mailer
from notarium.notify.webhooks.delivery import next_attempt_delay
from notarium.products.l402.status import public_status

log = logging.getLogger("notarium.products.l402")

EVENT = "status_change"
CHUNK = 500
_ANNOUNCED = (ANCHORING, CONFIRMED, FAILED)


def status_payload(record: Record) -> dict[str, Any]:
    return {
        "event": EVENT,
        "timestamp_id": record.certificate_id,
        "hash": record.sha256,
        "status": public_status(record.status),
        "txid": record.blockchain_tx,
        "block_height": record.bitcoin_block,
    }


@dataclass(frozen=True)
class MailText:
    subject: str
    body: str


def confirmation_mail(record: Record, explorer_url: str, organisation: str) -> MailText:
    lines = [
        f"Your {organisation} timestamp {record.certificate_id} is confirmed in the Bitcoin "
        "blockchain.",
        "",
        f"SHA-256:      {record.sha256}",
        f"Transaction:  {record.blockchain_tx or 'n/a'}",
        f"Block height: {record.bitcoin_block if record.bitcoin_block is not None else 'n/a'}",
    ]
    if record.blockchain_tx:
        lines.append(f"Explorer:     {explorer_url}{record.blockchain_tx}")
    lines += [
        "",
        'Check it any time, free: POST /api/l402 {"action":"l402_timestamp_verify",'
        f'"hash":"{record.sha256}"}}',
    ]
    return MailText(f"Timestamp {record.certificate_id} confirmed", "\n".join(lines) + "\n")


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
        rows = session.execute(
            select(L402Timestamp, Record)
            .join(Record, Record.id == L402Timestamp.record_id)
            .where(
                L402Timestamp.record_id.in_(record_ids),
                or_(
                    L402Timestamp.webhook_endpoint_id.is_not(None),
                    L402Timestamp.notification_email.is_not(None),
                ),
            )
        ).all()
        if not rows:
            return
        now = self.clock.now()
        for extra, record in rows:
            if extra.webhook_endpoint_id is not None:
                event_id = "msg_" + uuid.uuid4().hex
                session.add(
                    WebhookEvent(
                        id=event_id,
                        account_id=record.account_id,
                        mode=record.mode,
                        type=EVENT,
                        body=json.dumps(status_payload(record), separators=(",", ":")).encode(),
                        created_at=now,
                    )
                )
                session.flush()
                session.add(
                    WebhookDelivery(
                        event_id=event_id,
                        endpoint_id=extra.webhook_endpoint_id,
                        state="pending",
                        attempts=0,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
            if event_type == CONFIRMED and extra.notification_email is not None:
                text = confirmation_mail(record, self.explorer_url, self.organisation)
                session.add(
                    L402Mail(
                        record_id=record.id,
                        recipient=extra.notification_email,
                        subject=text.subject,
                        body=text.body,
                        state="pending",
                        attempts=0,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )


def attach_webhook(
    session: Session, box: SecretBox, account_id: str, url: str, now: datetime
) -> tuple[str, str]:
    """A new endpoint for one timestamp; its id and its signing secret."""
    endpoint_id = "wh_" + uuid.uuid4().hex
    secret = new_secret()
    session.add(
        WebhookEndpoint(
            id=endpoint_id,
            account_id=account_id,
            mode="live",
            url=url,
            # Subscribed to no account-wide event: it receives only its own timestamp's.
            events=[],
            active=True,
            secret_sealed=box.seal(secret, context=endpoint_id.encode()),
            consecutive_failures=0,
            created_at=now,
            updated_at=now,
        )
    )
    session.flush()
    return endpoint_id, secret


def detach_webhook(session: Session, endpoint_id: str | None) -> None:
    if endpoint_id is None:
        return
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is not None:
        # Undelivered events for the old URL go with it: they were meant for it alone.
        session.delete(endpoint)


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
            rows = session.scalars(
                select(L402Mail)
                .where(L402Mail.state == "pending", L402Mail.next_attempt_at <= now)
                .order_by(L402Mail.next_attempt_at, L402Mail.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
            for row in rows:
                row.next_attempt_at = now + timedelta(minutes=5)
            return [_Claim(r.id, r.attempts, r.recipient, r.subject, r.body) for r in rows]

    def _send(self, mailer: Mailer, claim: _Claim) -> None:
        error: str | None = None
        try:
            mailer.send(claim.recipient, claim.subject, claim.body)
        except Exception as exc:  # any failure is retried, then given up on
            error = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            log.warning("L402 mail to %s failed: %s", claim.recipient, error)
        now = self.clock.now()
        with self.sessions.begin() as session:
            row = session.get(L402Mail, claim.id, with_for_update=True)
            if row is None or row.state != "pending":
                return
            row.attempts = claim.attempts + 1
            if error is None:
                row.state = "sent"
                row.sent_at = now
                row.last_error = None
                return
            row.last_error = error[:2000]
            delay = next_attempt_delay(row.attempts)
            if delay is None:
                row.state = "failed"
            else:
                row.next_attempt_at = now + timedelta(seconds=delay)
