"""Certifying a URL: capture, evidence, record, all or nothing.

The daily allowance is reserved before the browser starts, so concurrent requests can
never overshoot it, and given back whenever no certificate comes out: failed and blocked
captures are never billed.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from notarium.adapters.egress.policy import EgressPolicy
from notarium.adapters.store.captures import CaptureRepository
from notarium.adapters.store.db import SessionFactory
from notarium.adapters.store.models import (
    Account,
    ApiKey,
    AssistedCaptureGrant,
    CaptureArtifact,
    JwtCredential,
    WebCapture,
)
from notarium.adapters.store.repositories import UsageRepository
from notarium.core.clock import Clock
from notarium.core.errors import NotFoundError
from notarium.formats.evidence.capture_result import CaptureResult
from notarium.ledger.accounts.plans import Plan, plan_named
from notarium.ledger.records.identifiers import new_certificate_id
from notarium.ledger.records.service import RecordService
from notarium.ledger.records.values import NewRecord, Owner, RecordView
from notarium.products.web_capture.browser.admission import admit_url
from notarium.products.web_capture.browser.errors import BotProtectionBlocked, InvalidCaptureUrl
from notarium.products.web_capture.browser.ports import AssistingCaptureEngine, CaptureEngine
from notarium.products.web_capture.coverage import CoverageChecker
from notarium.products.web_capture.live_sessions import (
    AssistLink,
    AssistLinkExpired,
    AssistLinkRevoked,
    AssistLinkUnknown,
    AssistLinkUsed,
    AssistUnavailable,
    LiveSessions,
    Viewer,
)
from notarium.products.web_capture.packaging import EvidencePackager
from notarium.products.web_capture.values import (
    AssistGrant,
    CertificationFailed,
    DailyQuotaExceeded,
    EvidenceFile,
    SubscriptionRequired,
    WebCaptureView,
)

CHANNEL = "capture"


class AssistanceRequired(BotProtectionBlocked):
    """A blocked capture, with the link a person can use to clear the challenge."""

    def __init__(self, blocked: BotProtectionBlocked, grant: AssistGrant, link: str) -> None:
        super().__init__(blocked.message, kind=blocked.kind)
        self.grant = grant
        self.link = link


def capture_period(instant: datetime) -> str:
    return f"capture:{instant.astimezone(UTC):%Y-%m-%d}"


def seconds_to_next_day(instant: datetime) -> int:
    day = instant.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((day + timedelta(days=1) - instant).total_seconds()))


def view_of(row: WebCapture, certificate_id: str, record_status: str) -> WebCaptureView:
    return WebCaptureView(
        recording_id=row.id,
        certificate_id=certificate_id,
        record_id=row.record_id,
        url=row.url,
        final_url=row.final_url,
        title=row.title,
        assisted=row.assisted,
        created_at=row.created_at,
        mode=row.mode,
        facts=dict(row.facts),
        record_status=record_status,
    )


class WebCaptureService:
    def __init__(
        self,
        sessions: SessionFactory,
        read_sessions: SessionFactory,
        records: RecordService,
        engine: Callable[[], CaptureEngine],
        packager: EvidencePackager,
        policy: EgressPolicy,
        clock: Clock,
        *,
        coverage: CoverageChecker,
        base_url: str,
        assist_lifetime: timedelta = timedelta(minutes=10),
    ) -> None:
        self.coverage = coverage
        self.sessions = sessions
        self.read_sessions = read_sessions
        self.records = records
        # The browser pool starts on first use, not when a CLI command builds the runtime.
        self._engine_factory = engine
        self._engine: CaptureEngine | None = None
        self.packager = packager
        self.policy = policy
        self.clock = clock
        self.assist_lifetime = assist_lifetime
        # Where a person opens an assisted-capture link (the public assist page).
        self.base_url = base_url
        self._live = LiveSessions(clock)

    def engine(self) -> CaptureEngine:
        if self._engine is None:
            self._engine = self._engine_factory()
        return self._engine

    async def close(self) -> None:
        self._live.clear()
        if self._engine is not None:
            await self._engine.close()
            self._engine = None

    # -- admission ---------------------------------------------------------------------

    def check_url(self, url: object) -> str:
        """The URL, if it may be captured: the same admission the engine applies, checked
        before the allowance is touched."""
        if not isinstance(url, str) or not url.strip():
            raise InvalidCaptureUrl("`url` is required: the https:// address to certify.")
        admit_url(self.policy, url.strip())
        return url.strip()

    @staticmethod
    def _require_subscription(plan: Plan) -> None:
        if plan.daily_captures <= 0:
            raise SubscriptionRequired(
                f"Web certificates need a flat-rate subscription; the {plan.name} plan has none."
            )

    def _reserve(self, owner: Owner, plan: Plan) -> str:
        self._require_subscription(plan)
        now = self.clock.now()
        period = capture_period(now)
        with self.sessions.begin() as session:
            if not UsageRepository(session).consume(owner.account_id, period, plan.daily_captures):
                raise DailyQuotaExceeded(
                    f"The {plan.name} plan's {plan.daily_captures} captures for today are used "
                    "up; the allowance resets at 00:00 UTC.",
                    retry_after=seconds_to_next_day(now),
                )
        return period

    def _release(self, owner: Owner, period: str) -> None:
        with self.sessions.begin() as session:
            UsageRepository(session).release(owner.account_id, period)

    # -- certification -----------------------------------------------------------------

    async def certify(self, owner: Owner, plan: Plan, key_id: str, url: object) -> WebCaptureView:
        # Entitlement before the URL: an account that may not capture learns so at once,
        # and its URL is never resolved.
        self._require_subscription(plan)
        checked = await asyncio.to_thread(self.check_url, url)
        period = await asyncio.to_thread(self._reserve, owner, plan)
        try:
            result = await self.engine().capture(checked)
            return await asyncio.to_thread(self._certify_result, owner, plan, checked, result)
        except BotProtectionBlocked as blocked:
            self._release(owner, period)
            grant = await asyncio.to_thread(self._grant, owner, key_id, checked, blocked.kind)
            link = f"{self.base_url}/assist/{grant.token}"
            raise AssistanceRequired(blocked, grant, link) from None
        except BaseException:
            # Synchronously: a cancelled request must still give its reservation back.
            self._release(owner, period)
            raise

    def _certify_result(
        self,
        owner: Owner,
        plan: Plan,
        url: str,
        result: CaptureResult,
        *,
        grant_hash: str | None = None,
    ) -> WebCaptureView:
        if not result.exchanges or not result.har or not result.screenshot_png:
            raise CertificationFailed(
                "The capture produced no usable evidence (no network log or screenshot)."
            )
        certificate_id = new_certificate_id(CHANNEL)
        recording_id = str(uuid.uuid4())
        evidence = self.packager.package(result, recording_id)
        facts = _facts(result)

        def store(session: Session, record: RecordView) -> None:
            if grant_hash is not None:
                # In the record's own transaction: a link certifies once, or not at all.
                _use_grant(session, grant_hash, recording_id)
            CaptureRepository(session).insert(
                WebCapture(
                    id=recording_id,
                    account_id=owner.account_id,
                    mode=owner.mode,
                    record_id=record.id,
                    url=url,
                    final_url=result.final_url,
                    title=result.title[:1000],
                    assisted=result.assisted,
                    facts=facts,
                    created_at=record.created_at,
                ),
                [_artifact(recording_id, file) for file in evidence.files],
            )

        record = self.records.create(
            owner,
            plan,
            NewRecord(
                sha256=evidence.manifest_sha256,
                filename="manifest.json",
                file_size_bytes=evidence.manifest_size,
                file_type="application/json",
                channel=CHANNEL,
                metadata={"url": url, "finalUrl": result.final_url},
                certificate_id=certificate_id,
            ),
            also=store,
        )
        return WebCaptureView(
            recording_id=recording_id,
            certificate_id=record.certificate_id,
            record_id=record.id,
            url=url,
            final_url=result.final_url,
            title=result.title,
            assisted=result.assisted,
            created_at=record.created_at,
            mode=owner.mode,
            facts=facts,
            record_status=record.status,
        )

    # -- assisted capture --------------------------------------------------------------

    def _grant(self, owner: Owner, key_id: str, url: str, protection: str) -> AssistGrant:
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        expires_at = now + self.assist_lifetime
        with self.sessions.begin() as session:
            CaptureRepository(session).add_grant(
                AssistedCaptureGrant(
                    token_hash=_token_hash(token),
                    account_id=owner.account_id,
                    mode=owner.mode,
                    key_id=key_id,
                    url=url,
                    protection=protection,
                    created_at=now,
                    expires_at=expires_at,
                )
            )
        return AssistGrant(token=token, url=url, protection=protection, expires_at=expires_at)

    def open_grant(self, token: str) -> AssistedCaptureGrant:
        """The grant behind a usable link; otherwise a :class:`GrantUnusable` that says
        why (unknown, used, expired)."""
        with self.read_sessions() as session:
            grant = CaptureRepository(session).grant(_token_hash(token))
            if grant is not None:
                session.expunge(grant)
        if grant is None:
            raise AssistLinkUnknown("This assisted-capture link is unknown.")
        if grant.capture_id is not None:
            raise AssistLinkUsed("This assisted-capture link was already used.")
        if grant.expires_at <= self.clock.now():
            raise AssistLinkExpired("This assisted-capture link has expired.")
        return grant

    def _usable_grant(self, token: str) -> tuple[AssistedCaptureGrant, Plan]:
        """The grant and its account's current plan, while the key that asked for it
        stands: revoking a key also withdraws the links it obtained."""
        grant = self.open_grant(token)
        with self.read_sessions() as session:
            account = session.get(Account, grant.account_id)
            key = session.get(ApiKey, grant.key_id) or session.get(JwtCredential, grant.key_id)
            standing = key is not None and key.revoked_at is None
        if account is None or not standing:
            raise AssistLinkRevoked(
                "The key that asked for this assisted capture has been revoked."
            )
        return grant, plan_named(account.plan)

    def describe_assist(self, token: str) -> AssistLink:
        grant, _ = self._usable_grant(token)
        return _link_of(grant)

    def _assisting(self) -> AssistingCaptureEngine:
        engine = self.engine()
        if not isinstance(engine, AssistingCaptureEngine):
            raise AssistUnavailable("This server's capture engine offers no live browser.")
        return engine

    def assisted_session_id(self, token: str) -> str | None:
        """The live browser a link has in this process, if any."""
        return self._live.session_id(_token_hash(token))

    async def start_assisted(self, token: str) -> Viewer:
        """A viewer of the link's live browser: the one already open (after a reload or
        a dropped connection), or a new one on the link's URL. It stays open, watched or
        not, until certified or until the link expires."""
        grant, _ = await asyncio.to_thread(self._usable_grant, token)
        return await self._live.attach(_token_hash(token), _link_of(grant), self._assisting())

    def leave_assisted(self, viewer: Viewer) -> None:
        self._live.detach(viewer)

    async def finish_assisted(self, token: str, viewer: Viewer) -> WebCaptureView:
        """Certifies the page as the viewer's browser now shows it, into the link's
        account, under its daily allowance; the link is used up in the same transaction
        as the record. A page that still shows a challenge raises BotProtectionBlocked
        and everything stays as it was."""
        grant, plan = await asyncio.to_thread(self._usable_grant, token)
        owner = Owner(account_id=grant.account_id, mode=grant.mode)
        period = await asyncio.to_thread(self._reserve, owner, plan)
        try:
            result = await viewer.browser.certify()
            view = await asyncio.to_thread(
                self._certify_result,
                owner,
                plan,
                grant.url,
                result,
                grant_hash=grant.token_hash,
            )
        except BaseException:
            self._release(owner, period)
            raise
        self._live.forget(grant.token_hash)
        return view

    # -- reading -----------------------------------------------------------------------

    def get(self, owner: Owner, recording_id: str) -> WebCaptureView:
        with self.read_sessions() as session:
            found = CaptureRepository(session).owned(owner.account_id, owner.mode, recording_id)
            if found is None:
                raise _not_found()
            return view_of(*found)

    def page(self, owner: Owner, *, before: datetime | None, limit: int) -> list[WebCaptureView]:
        with self.read_sessions() as session:
            rows = CaptureRepository(session).page(
                owner.account_id, owner.mode, before=before, limit=limit
            )
            return [view_of(*row) for row in rows]

    def get_any(self, recording_id: str) -> tuple[WebCaptureView, Owner]:
        """Any account's capture: only for links whose signature already proved access."""
        with self.read_sessions() as session:
            repository = CaptureRepository(session)
            row = repository.get(recording_id)
            found = None if row is None else repository.owned(row.account_id, row.mode, row.id)
            if found is None:
                raise _not_found()
            return view_of(*found), Owner(account_id=found[0].account_id, mode=found[0].mode)

    def artifact(self, recording_id: str, name: str) -> EvidenceFile:
        """No owner check: callers reach this only through a signed link or after one."""
        with self.read_sessions() as session:
            row = CaptureRepository(session).artifact(recording_id, name)
            if row is None:
                raise _not_found()
            return EvidenceFile(row.name, row.media_type, bytes(row.content))

    def artifacts(self, recording_id: str) -> list[EvidenceFile]:
        with self.read_sessions() as session:
            return [
                EvidenceFile(row.name, row.media_type, bytes(row.content))
                for row in CaptureRepository(session).artifacts(recording_id)
            ]


def _not_found() -> NotFoundError:
    return NotFoundError("No web certificate with that recordingId.", code="not_found")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _link_of(grant: AssistedCaptureGrant) -> AssistLink:
    return AssistLink(
        url=grant.url,
        protection=grant.protection,
        created_at=grant.created_at,
        expires_at=grant.expires_at,
    )


def _use_grant(session: Session, token_hash: str, capture_id: str) -> None:
    grant = CaptureRepository(session).grant(token_hash, lock=True)
    if grant is None or grant.capture_id is not None:
        raise AssistLinkUsed("This assisted-capture link was already used.")
    grant.capture_id = capture_id


def _artifact(capture_id: str, file: EvidenceFile) -> CaptureArtifact:
    return CaptureArtifact(
        capture_id=capture_id,
        name=file.name,
        media_type=file.media_type,
        sha256=hashlib.sha256(file.content).hexdigest(),
        content=file.content,
    )


def _facts(result: CaptureResult) -> dict[str, object]:
    return {
        "title": result.title,
        "startedAt": result.started.isoformat(),
        "finishedAt": result.finished.isoformat(),
        "viewport": list(result.viewport),
        "userAgent": result.user_agent,
        "browserVersion": result.browser_version,
        "redirects": [
            {"url": r.url, "status": r.status, "location": r.location} for r in result.redirects
        ],
        "serverIps": list(result.server_ips),
        "consentDismissed": list(result.consent_dismissed),
        "blockedRequests": len(result.blocked_requests),
    }
