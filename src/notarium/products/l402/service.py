"""The L402 endpoint's operations: timestamp a hash or a file (paid), verify and status
(free), update notifications (paid), and the L402 challenge and credential check that
stand in front of the paid ones.

A paid request without a credential gets a :class:`PaymentChallenge`: a fresh invoice
and a macaroon bound to exactly that request. The same request sent again with
``macaroon:preimage`` is checked (identifier, preimage, HMAC chain, caveats, and the
invoice settled at the node), carried out once, and its result stored with the token, so
a retry gets the same result and the token buys nothing else. Results are plain values
(``notarium.products.l402.results``); the HTTP family writes them as the document's JSON.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from notarium.adapters.lightning.ports import LightningBackend, UnknownInvoice
from notarium.adapters.pki.secretbox import SecretBox
from notarium.adapters.store.db import SessionFactory
from notarium.core.clock import Clock
from notarium.core.errors import ConfigurationError, ValidationError
from notarium.ledger.accounts.plans import Plan
from notarium.ledger.accounts.service import AccountService, check_email
from notarium.ledger.records.errors import DuplicateRecord
from notarium.ledger.records.service import RecordService
from notarium.ledger.records.values import NewRecord, Owner, RecordView
from notarium.notify.webhooks.service import InvalidWebhook, WebhookPolicy, check_url
from notarium.products.l402 import macaroons
from notarium.products.l402.bitcoin import ChainTip
from notarium.products.l402.caveats import Grant, check_caveats, satisfiers
from notarium.products.l402.errors import (
    InvalidPreimage,
    InvalidRequest,
    InvalidToken,
    PaymentNotSettled,
    TimestampNotFound,
    TokenMismatch,
)
from notarium.products.l402.files import CheckedFile, FileIntake
from notarium.products.l402.headers import Credential
from notarium.products.l402.identifier import Identifier
from notarium.products.l402.lookup import TimestampFacts, TimestampReader
from notarium.products.l402.notifications import MailOutbox, attach_webhook, detach_webhook
from notarium.products.l402.pricing import Pricer, Quote
from notarium.products.l402.repository import L402Repository, NotificationSettings
from notarium.products.l402.requests import (
    ActionRequest,
    FileTimestamp,
    HashTimestamp,
    Notifications,
    Paid,
    StatusRequest,
    UpdateRequest,
    VerifyRequest,
    request_digest,
)
from notarium.products.l402.results import (
    BitcoinAnchor,
    FileFacts,
    PaidResult,
    PaymentChallenge,
    Result,
    StatusResult,
    TimestampIssued,
    UpdateApplied,
    VerifyResult,
    restored,
    storable,
)
from notarium.products.l402.status import confirmations, public_status
from notarium.products.l402.tokens import NewToken, StoredToken, TokenStore

CHANNEL = "l402"
MODE = "live"
# Each L402 timestamp is paid for; the account that holds them has no allowance to run out.
PAY_PER_REQUEST = Plan("l402", api_access=False, monthly_timestamps=2**31 - 1)


@dataclass(frozen=True)
class L402Config:
    service: str = "notarium"
    """The service name in the ``services`` caveat and the prefix of the others."""
    location: str = "notarium"
    account_name: str = "l402"
    organisation: str = "notarium"
    invoice_expiry: int = 600
    token_lifetime: int = 86_400
    check_settlement: bool = True
    explorer_url: str = "https://mempool.space/tx/"
    lease_seconds: int = 120

    def __post_init__(self) -> None:
        if self.invoice_expiry <= 0 or self.token_lifetime < self.invoice_expiry:
            raise ConfigurationError(
                "the L402 token lifetime must be at least the invoice expiry, so that a "
                "paid invoice's token is still good when its payer retries"
            )


class L402Service:
    def __init__(
        self,
        sessions: SessionFactory,
        clock: Clock,
        *,
        records: RecordService,
        accounts: AccountService,
        lightning: LightningBackend,
        box: SecretBox,
        pricer: Pricer,
        intake: FileIntake,
        tip: ChainTip,
        webhook_policy: WebhookPolicy,
        mail: MailOutbox,
        config: L402Config,
        op_return_prefix: str = "NTRM",
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.records = records
        self.accounts = accounts
        self.lightning = lightning
        self.box = box
        self.pricer = pricer
        self.intake = intake
        self.tip = tip
        self.webhook_policy = webhook_policy
        self.mail = mail
        self.config = config
        self.tokens = TokenStore(sessions, box, clock)
        self.reader = TimestampReader(sessions, op_return_prefix=op_return_prefix)
        self._accounts: dict[str, str] = {}
        self._account_lock = threading.Lock()

    # -- entry point -------------------------------------------------------------------

    def handle(self, request: ActionRequest, credential: Credential | None) -> Result:
        if isinstance(request, VerifyRequest):
            return self._verify(request)
        if isinstance(request, StatusRequest):
            return self._status(request)
        if isinstance(request, UpdateRequest):
            return self._update(request, credential)
        return self._timestamp(request, credential)

    def deliver_mail(self) -> int:
        return self.mail.deliver_due()

    def background_step(self) -> int:
        """One round of the L402 background work: pending e-mails, expired tokens."""
        return self.mail.deliver_due() + self.tokens.purge_expired(
            timedelta(seconds=self.config.token_lifetime)
        )

    def revoke(self, token_id: str) -> bool:
        return self.tokens.revoke(token_id)

    # -- the account that holds L402 records -------------------------------------------

    def account_id(self) -> str:
        return self._account(self.config.account_name)

    def webhook_account_id(self) -> str:
        """The owner of the timestamps' webhook endpoints: an account of its own, which
        owns no record, so that account-wide event fan-out never reads these endpoints."""
        return self._account(f"{self.config.account_name}:webhooks")

    def _account(self, name: str) -> str:
        with self._account_lock:
            if name not in self._accounts:
                self._accounts[name] = self.accounts.ensure_system_account(name).id
            return self._accounts[name]

    def _owner(self) -> Owner:
        # Both accounts exist before any transaction that needs them opens: creating one
        # inside another transaction would wait on SQLite's write lock held by itself.
        self.webhook_account_id()
        return Owner(self.account_id(), MODE)

    # -- free actions ------------------------------------------------------------------

    def _verify(self, request: VerifyRequest) -> VerifyResult:
        facts = self.reader.verification(request.sha256)
        if facts is None:
            return VerifyResult(found=False)
        if facts.status == "confirmed" and facts.txid:
            anchor = BitcoinAnchor(
                txid=facts.txid,
                block_height=facts.block_height,
                op_return=facts.op_return,
                explorer_url=f"{self.config.explorer_url}{facts.txid}",
            )
            return VerifyResult(found=True, sha256=facts.sha256, anchor=anchor)
        return VerifyResult(found=True, sha256=facts.sha256, status=public_status(facts.status))

    def _find(self, timestamp_id: str | None, sha256: str | None) -> TimestampFacts:
        account = self.account_id()
        if timestamp_id is not None:
            facts = self.reader.by_timestamp_id(account, timestamp_id)
            if facts is not None and sha256 is not None and facts.sha256 != sha256:
                facts = None
        else:
            assert sha256 is not None
            facts = self.reader.by_hash(account, sha256)
        if facts is None:
            raise TimestampNotFound("No L402 timestamp matches this timestamp_id or hash.")
        return facts

    def _status(self, request: StatusRequest) -> StatusResult:
        facts = self._find(request.timestamp_id, request.sha256)
        status = public_status(facts.status)
        tip = self._best_height() if status == "confirmed" else None
        return StatusResult(
            status=status,
            timestamp_id=facts.timestamp_id,
            sha256=facts.sha256,
            txid=facts.txid,
            confirmations=confirmations(status, facts.block_height, tip),
            block_height=facts.block_height,
        )

    def _best_height(self) -> int | None:
        """The node's tip when it answers; never below the highest block an attestation
        names, which is all there is to go on without a node (OpenTimestamps only)."""
        heights = (self.tip.height(), self.reader.best_attested_height())
        known = [h for h in heights if h is not None]
        return max(known, default=None)

    # -- timestamps --------------------------------------------------------------------

    def _timestamp(
        self, request: HashTimestamp | FileTimestamp, credential: Credential | None
    ) -> TimestampIssued | PaymentChallenge:
        self._check_notifications(request.notify)
        is_file = isinstance(request, FileTimestamp)
        if credential is None:
            existing = self.reader.by_hash(self.account_id(), request.sha256)
            # Free only when it would change nothing: new notifications (or a file to
            # keep) are paid for like the timestamp itself, never silently dropped.
            if existing is not None and not self._changes(existing, request):
                return TimestampIssued(
                    timestamp_id=existing.timestamp_id,
                    sha256=existing.sha256,
                    status=public_status(existing.status),
                    already_timestamped=True,
                )
            if isinstance(request, FileTimestamp):
                # Refused files are refused before anyone pays for them.
                self.intake.check(request)
            return self._challenge(request, self.pricer.timestamp(file=is_file))
        token = self._redeemable(credential, request)
        earlier = self._claim(token)
        if earlier is not None:
            return _issued(earlier)
        try:
            return self._create(request, token.token_id)
        except BaseException:
            self.tokens.release(token.token_id)
            raise

    def _claim(self, token: StoredToken) -> PaidResult | None:
        """The result a redeemed token bought, or None once this request holds its lease."""
        kept = self.tokens.claim(token.token_id, timedelta(seconds=self.config.lease_seconds))
        return restored(kept) if kept is not None else None

    def _changes(self, existing: TimestampFacts, request: HashTimestamp | FileTimestamp) -> bool:
        notify = request.notify
        return (
            (notify.webhook_url is not None and notify.webhook_url != existing.webhook_url)
            or (
                notify.notification_email is not None
                and notify.notification_email != existing.notification_email
            )
            or (
                isinstance(request, FileTimestamp)
                and self.intake.store_dir is not None
                and not existing.file_stored
            )
        )

    def _create(self, request: HashTimestamp | FileTimestamp, token_id: str) -> TimestampIssued:
        checked: CheckedFile | None = None
        stored = False
        if isinstance(request, FileTimestamp):
            checked = self.intake.check(request)
            stored = self.intake.store(request)
        new = NewRecord(
            sha256=request.sha256,
            filename=checked.filename if checked else "",
            file_size_bytes=checked.size if checked else 0,
            file_type=checked.mime if checked else None,
            channel=CHANNEL,
        )
        answer: list[TimestampIssued] = []

        def within(session: Session, view: RecordView) -> None:
            secret = self._attach(session, view.id, request.notify, stored)
            result = _created(
                view.certificate_id, view.sha256, view.status, checked, stored, secret
            )
            self.tokens.mark_redeemed(session, token_id, storable(result), view.id)
            answer.append(result)

        try:
            self.records.create(self._owner(), PAY_PER_REQUEST, new, also=within)
        except DuplicateRecord as duplicate:
            # Someone paid for this hash first; this payment buys the same timestamp, with
            # this request's notifications (which replace any, as an update would).
            with self.sessions.begin() as session:
                record = L402Repository(session).record(duplicate.existing_id)
                if record is None:
                    raise
                secret = self._attach(session, record.id, request.notify, stored)
                result = _created(
                    record.timestamp_id, record.sha256, record.status, checked, stored, secret
                )
                self.tokens.mark_redeemed(session, token_id, storable(result), record.id)
                answer.append(result)
        return answer[0]

    def _attach(
        self, session: Session, record_id: str, notify: Notifications, stored: bool
    ) -> str | None:
        """The timestamp's notification row, with the notifications the request names
        (a timestamp has one webhook and one address: the latest paid request that names
        one sets it); the new webhook secret when a webhook was set up."""
        now = self.clock.now()
        rows = L402Repository(session)
        settings = rows.open_settings(record_id, now)
        secret = None
        unchanged = (
            settings.webhook_endpoint_id is not None and settings.webhook_url == notify.webhook_url
        )
        if notify.webhook_url is not None and not unchanged:
            settings, secret = self._set_webhook(
                rows, settings, notify.webhook_url, self.webhook_account_id(), now
            )
        if notify.notification_email is not None:
            settings = replace(settings, notification_email=notify.notification_email)
        rows.save_settings(replace(settings, file_stored=settings.file_stored or stored), now)
        return secret

    def _set_webhook(
        self,
        rows: L402Repository,
        settings: NotificationSettings,
        url: str | None,
        account_id: str,
        now: datetime,
    ) -> tuple[NotificationSettings, str | None]:
        """The settings with a new endpoint for ``url`` (none when None) in place of the
        old one, which is deleted; the new endpoint's secret."""
        previous = settings.webhook_endpoint_id
        settings = replace(settings, webhook_endpoint_id=None, webhook_url=None)
        if previous is not None:
            rows.save_settings(settings, now)
            detach_webhook(rows, previous)
        if url is None:
            return settings, None
        endpoint_id, secret = attach_webhook(rows, self.box, account_id, url, now)
        return replace(settings, webhook_endpoint_id=endpoint_id, webhook_url=url), secret

    # -- notification updates ----------------------------------------------------------

    def _update(
        self, request: UpdateRequest, credential: Credential | None
    ) -> UpdateApplied | PaymentChallenge:
        self._check_notifications(
            Notifications(
                request.webhook_url if request.set_webhook else None,
                request.notification_email if request.set_email else None,
            )
        )
        facts = self._find(request.timestamp_id, None)
        if credential is None:
            return self._challenge(request, self.pricer.update())
        token = self._redeemable(credential, request)
        earlier = self._claim(token)
        if earlier is not None:
            return _applied(earlier)
        try:
            return self._apply_update(request, facts, token.token_id)
        except BaseException:
            self.tokens.release(token.token_id)
            raise

    def _apply_update(
        self, request: UpdateRequest, facts: TimestampFacts, token_id: str
    ) -> UpdateApplied:
        now = self.clock.now()
        webhook_account = self.webhook_account_id()
        with self.sessions.begin() as session:
            rows = L402Repository(session)
            settings = rows.open_settings(facts.record_id, now)
            updated: dict[str, str | None] = {}
            secret = None
            if request.set_webhook:
                settings, secret = self._set_webhook(
                    rows, settings, request.webhook_url, webhook_account, now
                )
                updated["webhook_url"] = settings.webhook_url
            if request.set_email:
                settings = replace(settings, notification_email=request.notification_email)
                updated["notification_email"] = settings.notification_email
            rows.save_settings(settings, now)
            result = UpdateApplied(facts.timestamp_id, updated, secret)
            self.tokens.mark_redeemed(session, token_id, storable(result), facts.record_id)
            return result

    def _check_notifications(self, notify: Notifications) -> None:
        if notify.webhook_url is not None:
            try:
                check_url(notify.webhook_url, MODE, self.webhook_policy)
            except InvalidWebhook as error:
                raise InvalidRequest(
                    f"`webhook_url`: {error.message}", code="invalid_webhook_url"
                ) from None
        if notify.notification_email is not None:
            try:
                check_email(notify.notification_email)
            except ValidationError:
                raise InvalidRequest(
                    "`notification_email` is not an e-mail address.",
                    code="invalid_notification_email",
                ) from None
            if self.mail.mailer is None:
                raise InvalidRequest(
                    "This server sends no e-mail; leave `notification_email` out or use "
                    "`webhook_url`.",
                    code="notification_email_unavailable",
                )

    # -- L402 --------------------------------------------------------------------------

    def _challenge(self, request: Paid, quote: Quote) -> PaymentChallenge:
        invoice = self.lightning.create_invoice(
            quote.amount_sats, quote.description, self.config.invoice_expiry
        )
        token_id = secrets.token_bytes(32)
        root_key = secrets.token_bytes(32)
        identifier = Identifier(bytes.fromhex(invoice.payment_hash), token_id)
        expires = self.clock.now() + timedelta(seconds=self.config.token_lifetime)
        digest = request_digest(request)
        grant = Grant(self.config.service, request.action, int(expires.timestamp()), digest)
        raw = macaroons.mint(root_key, identifier, grant.caveats(), self.config.location)
        self.tokens.issue(
            NewToken(
                token_id=token_id.hex(),
                payment_hash=invoice.payment_hash,
                root_key=root_key,
                action=request.action,
                request_digest=digest,
                amount_sats=invoice.amount_sats,
                invoice=invoice.payment_request,
                expires_at=expires,
            )
        )
        return PaymentChallenge(
            invoice=invoice.payment_request,
            macaroon=macaroons.encode(raw),
            amount_sats=invoice.amount_sats,
            description=quote.description,
            payment_hash=invoice.payment_hash,
        )

    def _redeemable(self, credential: Credential, request: Paid) -> StoredToken:
        """The token, once the credential proves payment for exactly this request.

        In the order the L402 specification gives: the identifier, the preimage against
        its payment hash, the HMAC chain from the token's root key, the caveats, and
        (unless switched off) the invoice settled at the node.
        """
        parsed = macaroons.parse(credential.macaroon)
        identifier = parsed.identifier
        if not hmac.compare_digest(
            hashlib.sha256(credential.preimage).digest(), identifier.payment_hash
        ):
            raise InvalidPreimage("The preimage does not hash to the token's payment hash.")
        token = self.tokens.get(identifier.token_hex)
        if (
            token is None
            or token.root_key is None
            or not hmac.compare_digest(token.payment_hash, identifier.payment_hash_hex)
        ):
            raise InvalidToken("This L402 token is unknown here or has been revoked.")
        macaroons.check_signature(parsed, token.root_key)
        digest = request_digest(request)
        now: datetime = self.clock.now()
        check_caveats(parsed.caveats, satisfiers(self.config.service, request.action, digest, now))
        if token.action != request.action or not hmac.compare_digest(token.request_digest, digest):
            raise TokenMismatch("This token was bought for a different request.")
        if self.config.check_settlement and token.state != "redeemed":
            self._check_settled(token)
        return token

    def _check_settled(self, token: StoredToken) -> None:
        try:
            state = self.lightning.lookup_invoice(token.payment_hash)
        except UnknownInvoice:
            raise PaymentNotSettled(
                "The Lightning node does not know this token's invoice."
            ) from None
        paid = state.amount_paid_sats
        paid_short = paid is not None and paid < token.amount_sats
        if not state.settled or paid_short:
            raise PaymentNotSettled(
                "The invoice of this token is not paid (yet); pay it, then retry."
            )


def _created(
    timestamp_id: str,
    sha256: str,
    status: str,
    checked: CheckedFile | None,
    stored: bool,
    webhook_secret: str | None,
) -> TimestampIssued:
    file = (
        FileFacts(checked.filename, checked.size, checked.mime, stored)
        if checked is not None
        else None
    )
    return TimestampIssued(timestamp_id, sha256, public_status(status), file, webhook_secret)


def _issued(result: PaidResult) -> TimestampIssued:
    # A token is bound to one action by its caveats, so its stored result is that action's.
    if not isinstance(result, TimestampIssued):
        raise ConfigurationError("a timestamp token holds another action's result")
    return result


def _applied(result: PaidResult) -> UpdateApplied:
    if not isinstance(result, UpdateApplied):
        raise ConfigurationError("an update token holds another action's result")
    return result
