"""Webhook endpoints (create, list, update, rotate, delete) and the delivery worker that
drains the outbox: at-least-once, signed two ways, retried on schedule, leased so a
worker killed mid-delivery loses nothing."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy import select
from sqlalchemy.orm import Session

from notarium.adapters.pki.secretbox import SecretBox
from notarium.adapters.store.db import SessionFactory
from notarium.adapters.store.models import (
    Account,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from notarium.core.clock import Clock
from notarium.core.errors import NotFoundError, ValidationError
from notarium.formats.webhook_signature import new_secret, public_key_text, sign
from notarium.ledger.events import EVENT_TYPES
from notarium.notify.webhooks.delivery import DeliveryResult, WebhookSender, next_attempt_delay

log = logging.getLogger("notarium.notify.webhooks")

ROTATION_GRACE = timedelta(hours=24)
MAX_ENDPOINTS = 20


class WebhookNotFound(NotFoundError):
    code = "WEBHOOK_NOT_FOUND"


class InvalidWebhook(ValidationError):
    code = "INVALID_WEBHOOK"


@dataclass(frozen=True)
class EndpointView:
    id: str
    url: str
    events: tuple[str, ...]
    mode: str
    active: bool
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class AttemptView:
    attempted_at: datetime
    status: int | None
    latency_ms: int
    error: str | None


@dataclass(frozen=True)
class DeliveryView:
    id: int
    event_id: str
    event_type: str
    state: str
    attempts: tuple[AttemptView, ...]
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class WebhookPolicy:
    timeout: float = 15.0
    disable_after: int = 50
    """Consecutive failed attempts after which an endpoint is switched off."""
    https_only_live: bool = True


Notifier = Callable[[str, str, str], None]
"""(to, subject, body): tells an account's owner that an endpoint was switched off."""


def _view(row: WebhookEndpoint) -> EndpointView:
    return EndpointView(
        row.id,
        row.url,
        tuple(row.events),
        row.mode,
        row.active,
        row.disabled_reason,
        row.created_at,
        row.updated_at,
    )


def check_events(events: object) -> list[str]:
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        raise InvalidWebhook(f"`events` must be a non-empty list drawn from {list(EVENT_TYPES)}.")
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise InvalidWebhook(f"unknown event(s) {unknown}; known: {list(EVENT_TYPES)}")
    return sorted(set(events))


def check_url(url: object, mode: str, policy: WebhookPolicy) -> str:
    if not isinstance(url, str) or len(url) > 2048:
        raise InvalidWebhook("`url` must be an absolute http(s) URL of at most 2048 characters.")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidWebhook("`url` must be an absolute http(s) URL.")
    if parts.username or parts.password:
        raise InvalidWebhook("`url` must not carry credentials.")
    if mode == "live" and policy.https_only_live and parts.scheme != "https":
        raise InvalidWebhook("live-mode webhook URLs must use https.")
    return url


class WebhookService:
    def __init__(
        self,
        sessions: SessionFactory,
        clock: Clock,
        box: SecretBox,
        sender: WebhookSender,
        policy: WebhookPolicy,
        *,
        notify: Notifier | None = None,
        signing_key: ed25519.Ed25519PrivateKey | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.box = box
        self.sender = sender
        self.policy = policy
        self.notify = notify
        self.signing_key = signing_key

    def public_key(self) -> str | None:
        """The ``whpk_`` public key that checks the ``v1a`` signatures, if any are made."""
        if self.signing_key is None:
            return None
        return public_key_text(self.signing_key.public_key())

    def close(self) -> None:
        close = getattr(self.sender, "close", None)
        if callable(close):
            close()

    # -- endpoints -------------------------------------------------------------------
    # Every endpoint belongs to one account *and* one mode (the mode of the key that made
    # it): keys of the other mode can neither see nor change it, and it receives only
    # that mode's events.

    def create(
        self, account_id: str, *, url: object, events: object, mode: str
    ) -> tuple[EndpointView, str]:
        """A new endpoint and its signing secret, which is shown this once."""
        if mode not in ("live", "test"):
            raise InvalidWebhook("`mode` must be `live` or `test`.")
        checked_url = check_url(url, mode, self.policy)
        checked_events = check_events(events)
        secret = new_secret()
        now = self.clock.now()
        endpoint_id = "wh_" + uuid.uuid4().hex
        with self.sessions.begin() as session:
            count = len(
                session.scalars(
                    select(WebhookEndpoint.id).where(
                        WebhookEndpoint.account_id == account_id, WebhookEndpoint.mode == mode
                    )
                ).all()
            )
            if count >= MAX_ENDPOINTS:
                raise InvalidWebhook(
                    f"an account may have at most {MAX_ENDPOINTS} endpoints per mode."
                )
            row = WebhookEndpoint(
                id=endpoint_id,
                account_id=account_id,
                mode=mode,
                url=checked_url,
                events=checked_events,
                active=True,
                secret_sealed=self.box.seal(secret, context=endpoint_id.encode()),
                consecutive_failures=0,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            return _view(row), secret

    def list_endpoints(self, account_id: str, mode: str) -> list[EndpointView]:
        with self.sessions() as session:
            rows = session.scalars(
                select(WebhookEndpoint)
                .where(WebhookEndpoint.account_id == account_id, WebhookEndpoint.mode == mode)
                .order_by(WebhookEndpoint.created_at)
            )
            return [_view(row) for row in rows]

    def get(self, account_id: str, mode: str, endpoint_id: str) -> EndpointView:
        with self.sessions() as session:
            return _view(self._owned(session, account_id, mode, endpoint_id))

    def update(
        self,
        account_id: str,
        mode: str,
        endpoint_id: str,
        *,
        active: object = None,
        url: object = None,
        events: object = None,
    ) -> EndpointView:
        with self.sessions.begin() as session:
            row = self._owned(session, account_id, mode, endpoint_id)
            if active is not None:
                if not isinstance(active, bool):
                    raise InvalidWebhook("`active` must be a boolean.")
                row.active = active
                if active:
                    row.consecutive_failures = 0
                    row.disabled_reason = None
            if url is not None:
                row.url = check_url(url, row.mode, self.policy)
            if events is not None:
                row.events = check_events(events)
            row.updated_at = self.clock.now()
            return _view(row)

    def delete(self, account_id: str, mode: str, endpoint_id: str) -> None:
        with self.sessions.begin() as session:
            session.delete(self._owned(session, account_id, mode, endpoint_id))

    def rotate_secret(
        self, account_id: str, mode: str, endpoint_id: str
    ) -> tuple[EndpointView, str]:
        """A new secret; the previous one stays valid (and signed with) for 24 hours."""
        secret = new_secret()
        now = self.clock.now()
        with self.sessions.begin() as session:
            row = self._owned(session, account_id, mode, endpoint_id)
            row.previous_secret_sealed = row.secret_sealed
            row.previous_expires_at = now + ROTATION_GRACE
            row.secret_sealed = self.box.seal(secret, context=row.id.encode())
            row.updated_at = now
            return _view(row), secret

    def deliveries(
        self, account_id: str, mode: str, endpoint_id: str, limit: int = 50
    ) -> list[DeliveryView]:
        with self.sessions() as session:
            self._owned(session, account_id, mode, endpoint_id)
            rows = session.execute(
                select(WebhookDelivery, WebhookEvent.type)
                .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
                .where(WebhookDelivery.endpoint_id == endpoint_id)
                .order_by(WebhookDelivery.id.desc())
                .limit(limit)
            ).all()
            views = []
            for delivery, event_type in rows:
                attempts = session.scalars(
                    select(WebhookAttempt)
                    .where(WebhookAttempt.delivery_id == delivery.id)
                    .order_by(WebhookAttempt.id)
                )
                views.append(
                    DeliveryView(
                        delivery.id,
                        delivery.event_id,
                        event_type,
                        delivery.state,
                        tuple(
                            AttemptView(a.attempted_at, a.status, a.latency_ms, a.error)
                            for a in attempts
                        ),
                        delivery.next_attempt_at if delivery.state == "pending" else None,
                        delivery.delivered_at,
                        delivery.created_at,
                    )
                )
            return views

    def redeliver(self, account_id: str, mode: str, endpoint_id: str, delivery_id: int) -> None:
        with self.sessions.begin() as session:
            self._owned(session, account_id, mode, endpoint_id)
            row = session.get(WebhookDelivery, delivery_id)
            if row is None or row.endpoint_id != endpoint_id:
                raise WebhookNotFound(
                    "No such delivery for this endpoint.", code="DELIVERY_NOT_FOUND"
                )
            row.state = "pending"
            row.attempts = 0
            row.next_attempt_at = self.clock.now()

    def _owned(
        self, session: Session, account_id: str, mode: str, endpoint_id: str
    ) -> WebhookEndpoint:
        row = session.get(WebhookEndpoint, endpoint_id)
        # The other mode's endpoint is "not found", like another account's: a 403 would
        # tell a test key that a live endpoint with this id exists.
        if row is None or row.account_id != account_id or row.mode != mode:
            raise WebhookNotFound("No webhook endpoint with this id exists for this account.")
        return row

    # -- delivery --------------------------------------------------------------------

    def deliver_due(self, *, limit: int = 32) -> int:
        """Send every due delivery once; returns how many were attempted."""
        claims = self._claim(limit)
        for claim in claims:
            self._attempt(claim)
        return len(claims)

    def _claim(self, limit: int) -> list[_Claim]:
        now = self.clock.now()
        # The lease outlasts one attempt, so a dead worker's claim lapses and is retried.
        lease = timedelta(seconds=self.policy.timeout * 2 + 5)
        with self.sessions.begin() as session:
            rows = session.execute(
                select(WebhookDelivery, WebhookEndpoint, WebhookEvent)
                .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
                .where(
                    WebhookDelivery.state == "pending",
                    WebhookDelivery.next_attempt_at <= now,
                    WebhookEndpoint.active.is_(True),
                )
                .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
                .limit(limit)
                .with_for_update(skip_locked=True, of=WebhookDelivery)
            ).all()
            claims = []
            for delivery, endpoint, event in rows:
                delivery.next_attempt_at = now + lease
                secrets = [self.box.open(endpoint.secret_sealed, context=endpoint.id.encode())]
                if (
                    endpoint.previous_secret_sealed is not None
                    and endpoint.previous_expires_at is not None
                    and endpoint.previous_expires_at > now
                ):
                    secrets.append(
                        self.box.open(endpoint.previous_secret_sealed, context=endpoint.id.encode())
                    )
                claims.append(
                    _Claim(
                        delivery.id,
                        delivery.attempts,
                        endpoint.id,
                        endpoint.url,
                        tuple(secrets),
                        event.id,
                        event.body,
                    )
                )
            return claims

    def _attempt(self, claim: _Claim) -> None:
        headers = sign(
            list(claim.secrets),
            msg_id=claim.event_id,
            timestamp=int(self.clock.now().timestamp()),
            body=claim.body,
            signing_key=self.signing_key,
        )
        result = self.sender.send(claim.url, headers, claim.body)
        self._record(claim, result)

    def _record(self, claim: _Claim, result: DeliveryResult) -> None:
        now = self.clock.now()
        with self.sessions.begin() as session:
            delivery = session.get(WebhookDelivery, claim.delivery_id, with_for_update=True)
            endpoint = session.get(WebhookEndpoint, claim.endpoint_id, with_for_update=True)
            if delivery is None or endpoint is None or delivery.state != "pending":
                return
            session.add(
                WebhookAttempt(
                    delivery_id=delivery.id,
                    attempted_at=now,
                    status=result.status,
                    latency_ms=result.latency_ms,
                    error=result.error,
                )
            )
            delivery.attempts = claim.attempts + 1
            delivery.last_status = result.status
            delivery.last_error = result.error
            outcome = result.outcome
            if outcome == "delivered":
                delivery.state = "delivered"
                delivery.delivered_at = now
                endpoint.consecutive_failures = 0
                return
            endpoint.consecutive_failures += 1
            if outcome == "disable":
                delivery.state = "failed"
                if endpoint.active:
                    self._disable(session, endpoint, f"the endpoint answered {result.status} Gone")
                return
            delay = next_attempt_delay(delivery.attempts, retry_after=result.retry_after)
            if delay is None:
                delivery.state = "failed"
            else:
                delivery.next_attempt_at = now + timedelta(seconds=delay)
            # Only the attempt that crosses the line switches the endpoint off (and mails
            # its owner once); attempts already in flight must not do it again.
            if endpoint.active and endpoint.consecutive_failures >= self.policy.disable_after:
                self._disable(
                    session,
                    endpoint,
                    f"{endpoint.consecutive_failures} consecutive failed attempts",
                )

    def _disable(self, session: Session, endpoint: WebhookEndpoint, reason: str) -> None:
        endpoint.active = False
        endpoint.disabled_reason = reason
        endpoint.updated_at = self.clock.now()
        log.warning("webhook endpoint %s disabled: %s", endpoint.id, reason)
        account = session.get(Account, endpoint.account_id)
        if self.notify is not None and account is not None and account.email:
            try:
                self.notify(
                    account.email,
                    "notarium: a webhook endpoint was switched off",
                    f"The webhook endpoint {endpoint.url} ({endpoint.id}, {endpoint.mode} mode) "
                    f"was switched off: {reason}.\nUndelivered events are kept; switch it back "
                    'on with PATCH /v1/webhooks/{id} and {"active": true}.',
                )
            except Exception:
                log.exception("could not notify %s", account.email)


@dataclass(frozen=True)
class _Claim:
    delivery_id: int
    attempts: int
    endpoint_id: str
    url: str
    secrets: Sequence[str]
    event_id: str
    body: bytes
