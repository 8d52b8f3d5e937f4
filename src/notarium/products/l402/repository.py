"""Every query of the L402 product, on the caller's session: its own tables (tokens,
notification settings, mail outbox), the webhook endpoints and events it writes for
its timestamps, and the records and anchors it reads. Rows go in and come out as frozen
values; the services around it own the transactions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from notarium.adapters.store.models import (
    Batch,
    BatchAnchor,
    L402Mail,
    L402Timestamp,
    L402Token,
    Record,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)


@dataclass(frozen=True)
class RecordFacts:
    """What L402 reads of a record."""

    id: str
    account_id: str
    mode: str
    timestamp_id: str
    sha256: str
    status: str
    txid: str | None
    """The confirming Bitcoin transaction, once confirmed."""
    block_height: int | None
    filename: str
    size: int
    mime: str | None
    batch_id: int | None


@dataclass(frozen=True)
class AnchorFacts:
    kind: str
    payload: bytes | None
    bitcoin_txid: str | None
    subject: bytes | None


@dataclass(frozen=True)
class NotificationSettings:
    """A timestamp's notifications (one webhook, one address) and whether its file was
    kept; every timestamp has them once opened, empty at first."""

    record_id: str
    webhook_url: str | None = None
    webhook_endpoint_id: str | None = None
    notification_email: str | None = None
    file_stored: bool = False


@dataclass(frozen=True)
class TokenRow:
    id: str
    payment_hash: str
    root_key_sealed: bytes | None
    action: str
    request_digest: str
    amount_sats: int
    state: str
    lease_until: datetime | None
    result_sealed: bytes | None


@dataclass(frozen=True)
class NewTokenRow:
    id: str
    payment_hash: str
    root_key_sealed: bytes
    action: str
    request_digest: str
    amount_sats: int
    invoice: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class MailRow:
    id: int
    attempts: int
    recipient: str
    subject: str
    body: str
    state: str


def _record(row: Record) -> RecordFacts:
    return RecordFacts(
        id=row.id,
        account_id=row.account_id,
        mode=row.mode,
        timestamp_id=row.certificate_id,
        sha256=row.sha256,
        status=row.status,
        txid=row.blockchain_tx,
        block_height=row.bitcoin_block,
        filename=row.filename,
        size=row.file_size_bytes,
        mime=row.file_type,
        batch_id=row.batch_id,
    )


def _settings(row: L402Timestamp) -> NotificationSettings:
    return NotificationSettings(
        record_id=row.record_id,
        webhook_url=row.webhook_url,
        webhook_endpoint_id=row.webhook_endpoint_id,
        notification_email=row.notification_email,
        file_stored=row.file_stored,
    )


def _token(row: L402Token) -> TokenRow:
    return TokenRow(
        id=row.id,
        payment_hash=row.payment_hash,
        root_key_sealed=row.root_key_sealed,
        action=row.action,
        request_digest=row.request_digest,
        amount_sats=row.amount_sats,
        state=row.state,
        lease_until=row.lease_until,
        result_sealed=row.result_sealed,
    )


def _mail(row: L402Mail) -> MailRow:
    return MailRow(row.id, row.attempts, row.recipient, row.subject, row.body, row.state)


class L402Repository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- records and their anchors -----------------------------------------------------

    def record(self, record_id: str) -> RecordFacts | None:
        row = self.session.get(Record, record_id)
        return _record(row) if row is not None else None

    def record_by_timestamp_id(self, account_id: str, timestamp_id: str) -> RecordFacts | None:
        row = self.session.scalar(
            select(Record).where(
                Record.account_id == account_id, Record.certificate_id == timestamp_id
            )
        )
        return _record(row) if row is not None else None

    def first_record_by_hash(self, account_id: str, sha256: str) -> RecordFacts | None:
        row = self.session.scalar(
            select(Record)
            .where(Record.account_id == account_id, Record.sha256 == sha256)
            .order_by(Record.created_at)
            .limit(1)
        )
        return _record(row) if row is not None else None

    def live_records(self, sha256: str, *, limit: int) -> list[RecordFacts]:
        """The earliest live records of ``sha256``, whoever holds them."""
        rows = self.session.scalars(
            select(Record)
            .where(Record.sha256 == sha256, Record.mode == "live")
            .order_by(Record.created_at)
            .limit(limit)
        ).all()
        return [_record(row) for row in rows]

    def anchors(self, batch_id: int) -> list[AnchorFacts]:
        rows = self.session.scalars(
            select(BatchAnchor).where(BatchAnchor.batch_id == batch_id).order_by(BatchAnchor.id)
        ).all()
        return [AnchorFacts(a.kind, a.payload, a.bitcoin_txid, a.subject) for a in rows]

    def batch_root(self, batch_id: int) -> bytes | None:
        batch = self.session.get(Batch, batch_id)
        return batch.root if batch is not None else None

    def newest_attested_heights(self, limit: int) -> list[int]:
        heights = self.session.scalars(
            select(BatchAnchor.bitcoin_height)
            .where(BatchAnchor.bitcoin_height.is_not(None))
            .order_by(BatchAnchor.id.desc())
            .limit(limit)
        ).all()
        return [h for h in heights if h is not None]

    # -- notification settings ---------------------------------------------------------

    def settings(self, record_id: str) -> NotificationSettings | None:
        row = self.session.get(L402Timestamp, record_id)
        return _settings(row) if row is not None else None

    def open_settings(self, record_id: str, now: datetime) -> NotificationSettings:
        """The timestamp's settings, locked until the transaction ends; created empty
        when it has none yet."""
        row = self.session.get(L402Timestamp, record_id, with_for_update=True)
        if row is None:
            row = L402Timestamp(
                record_id=record_id, file_stored=False, created_at=now, updated_at=now
            )
            self.session.add(row)
            self.session.flush()
        return _settings(row)

    def save_settings(self, settings: NotificationSettings, now: datetime) -> None:
        """Write settings back after :meth:`open_settings` in the same transaction."""
        row = self.session.get(L402Timestamp, settings.record_id)
        if row is None:
            raise LookupError(f"no open L402 settings for record {settings.record_id}")
        row.webhook_url = settings.webhook_url
        row.webhook_endpoint_id = settings.webhook_endpoint_id
        row.notification_email = settings.notification_email
        row.file_stored = settings.file_stored
        row.updated_at = now
        # The endpoint a webhook replaces is deleted next: no row may point at it then.
        self.session.flush()

    def announced(
        self, record_ids: Sequence[str]
    ) -> list[tuple[NotificationSettings, RecordFacts]]:
        """The records among ``record_ids`` with a webhook or an address to tell."""
        rows = self.session.execute(
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
        return [(_settings(extra), _record(record)) for extra, record in rows]

    # -- webhooks ----------------------------------------------------------------------

    def add_endpoint(
        self, endpoint_id: str, account_id: str, url: str, secret_sealed: bytes, now: datetime
    ) -> None:
        self.session.add(
            WebhookEndpoint(
                id=endpoint_id,
                account_id=account_id,
                mode="live",
                url=url,
                # Subscribed to no account-wide event: it receives only its own timestamp's.
                events=[],
                active=True,
                secret_sealed=secret_sealed,
                consecutive_failures=0,
                created_at=now,
                updated_at=now,
            )
        )
        self.session.flush()

    def delete_endpoint(self, endpoint_id: str) -> None:
        endpoint = self.session.get(WebhookEndpoint, endpoint_id)
        if endpoint is not None:
            self.session.delete(endpoint)

    def add_event(
        self,
        event_id: str,
        record: RecordFacts,
        event_type: str,
        body: bytes,
        endpoint_id: str,
        now: datetime,
    ) -> None:
        """An event of one record, due now at one endpoint only."""
        self.session.add(
            WebhookEvent(
                id=event_id,
                account_id=record.account_id,
                mode=record.mode,
                type=event_type,
                body=body,
                created_at=now,
            )
        )
        self.session.flush()
        self.session.add(
            WebhookDelivery(
                event_id=event_id,
                endpoint_id=endpoint_id,
                state="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )

    # -- the mail outbox ---------------------------------------------------------------

    def add_mail(
        self, record_id: str, recipient: str, subject: str, body: str, now: datetime
    ) -> None:
        self.session.add(
            L402Mail(
                record_id=record_id,
                recipient=recipient,
                subject=subject,
                body=body,
                state="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )

    def lease_due_mail(self, now: datetime, until: datetime, limit: int) -> list[MailRow]:
        """Pending mail due by ``now``, skipping rows another worker holds, put off to
        ``until`` so that no other worker takes them meanwhile."""
        rows = self.session.scalars(
            select(L402Mail)
            .where(L402Mail.state == "pending", L402Mail.next_attempt_at <= now)
            .order_by(L402Mail.next_attempt_at, L402Mail.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for row in rows:
            row.next_attempt_at = until
        return [_mail(row) for row in rows]

    def locked_mail(self, mail_id: int) -> MailRow | None:
        row = self.session.get(L402Mail, mail_id, with_for_update=True)
        return _mail(row) if row is not None else None

    def mail_sent(self, mail_id: int, attempts: int, now: datetime) -> None:
        row = self._mail_row(mail_id)
        row.attempts = attempts
        row.state = "sent"
        row.sent_at = now
        row.last_error = None

    def mail_failed(
        self, mail_id: int, attempts: int, error: str, retry_at: datetime | None
    ) -> None:
        """A failed attempt; given up on when there is no ``retry_at``."""
        row = self._mail_row(mail_id)
        row.attempts = attempts
        row.last_error = error
        if retry_at is None:
            row.state = "failed"
        else:
            row.next_attempt_at = retry_at

    def _mail_row(self, mail_id: int) -> L402Mail:
        # Locked by :meth:`locked_mail` earlier in the transaction: in the identity map.
        row = self.session.get(L402Mail, mail_id)
        if row is None:
            raise LookupError(f"no L402 mail {mail_id}")
        return row

    # -- tokens ------------------------------------------------------------------------

    def add_token(self, token: NewTokenRow) -> None:
        self.session.add(
            L402Token(
                id=token.id,
                payment_hash=token.payment_hash,
                root_key_sealed=token.root_key_sealed,
                action=token.action,
                request_digest=token.request_digest,
                amount_sats=token.amount_sats,
                invoice=token.invoice,
                state="issued",
                created_at=token.created_at,
                expires_at=token.expires_at,
            )
        )

    def token(self, token_id: str, *, lock: bool = False) -> TokenRow | None:
        row = self.session.get(L402Token, token_id, with_for_update=lock)
        return _token(row) if row is not None else None

    def lease_token(self, token_id: str, until: datetime) -> None:
        row = self._token_row(token_id)
        row.state = "redeeming"
        row.lease_until = until

    def release_token(self, token_id: str) -> None:
        row = self._token_row(token_id)
        row.state = "issued"
        row.lease_until = None

    def redeem_token(
        self, token_id: str, result_sealed: bytes, record_id: str | None, now: datetime
    ) -> None:
        row = self._token_row(token_id)
        row.state = "redeemed"
        row.lease_until = None
        row.redeemed_at = now
        row.record_id = record_id
        row.result_sealed = result_sealed

    def revoke_token(self, token_id: str, now: datetime) -> None:
        row = self._token_row(token_id)
        row.root_key_sealed = None
        row.revoked_at = now

    def purge_tokens(self, expired_before: datetime, limit: int) -> int:
        ids = self.session.scalars(
            select(L402Token.id).where(L402Token.expires_at < expired_before).limit(limit)
        ).all()
        if ids:
            self.session.execute(delete(L402Token).where(L402Token.id.in_(ids)))
        return len(ids)

    def _token_row(self, token_id: str) -> L402Token:
        # Locked by ``token(lock=True)`` earlier in the transaction: in the identity map.
        row = self.session.get(L402Token, token_id)
        if row is None:
            raise LookupError(f"no L402 token {token_id}")
        return row
