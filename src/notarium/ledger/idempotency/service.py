"""A key is claimed in its own committed transaction before the work starts, so a second
request with the same key sees it in flight. The claim carries a lease: a server killed
mid-request leaves a claim that expires, never a key that is stuck forever."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from notarium.adapters.store.db import SessionFactory
from notarium.adapters.store.models import IdempotencyEntry
from notarium.adapters.store.repositories import IdempotencyRepository
from notarium.core.clock import Clock
from notarium.core.errors import ConflictError, ValidationError

MAX_KEY_LENGTH = 200


class InvalidIdempotencyKey(ValidationError):
    code = "INVALID_IDEMPOTENCY_KEY"


class IdempotencyMismatch(ValidationError):
    code = "IDEMPOTENCY_MISMATCH"


class IdempotencyInProgress(ConflictError):
    code = "IDEMPOTENCY_IN_PROGRESS"


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: bytes


@dataclass(frozen=True)
class Claim:
    account_id: str
    scope: str
    key: str


def check_key(key: str) -> str:
    if not key or not key.strip():
        raise InvalidIdempotencyKey("The Idempotency-Key header is empty.")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidIdempotencyKey(
            f"The Idempotency-Key is {len(key)} characters; use 1 to {MAX_KEY_LENGTH}."
        )
    return key


class IdempotencyService:
    def __init__(self, sessions: SessionFactory, clock: Clock, lease_seconds: int) -> None:
        self.sessions = sessions
        self.clock = clock
        self.lease = timedelta(seconds=lease_seconds)

    def claim(
        self, account_id: str, scope: str, key: str, request_hash: str
    ) -> Claim | StoredResponse:
        """Either a fresh claim (do the work, then ``complete``) or the stored response."""
        check_key(key)
        for _attempt in range(3):
            try:
                return self._claim_once(account_id, scope, key, request_hash)
            except IntegrityError:
                continue  # a concurrent first request inserted the key; read it again
        raise IdempotencyInProgress("A request with this Idempotency-Key is still processing.")

    def _claim_once(
        self, account_id: str, scope: str, key: str, request_hash: str
    ) -> Claim | StoredResponse:
        now = self.clock.now()
        with self.sessions.begin() as session:
            repo = IdempotencyRepository(session)
            entry = repo.get(account_id, scope, key, lock=True)
            if entry is None:
                repo.add(
                    IdempotencyEntry(
                        account_id=account_id,
                        scope=scope,
                        key=key,
                        request_hash=request_hash,
                        state="in_progress",
                        locked_until=now + self.lease,
                        created_at=now,
                    )
                )
                session.flush()
                return Claim(account_id, scope, key)
            if entry.request_hash != request_hash:
                raise IdempotencyMismatch(
                    "This Idempotency-Key was used for a different request body; "
                    "reuse a key only for byte-for-byte identical requests."
                )
            if entry.state == "done":
                assert entry.response_status is not None and entry.response_body is not None
                return StoredResponse(entry.response_status, entry.response_body)
            if entry.locked_until > now:
                raise IdempotencyInProgress(
                    "A request with this Idempotency-Key is still processing; retry shortly."
                )
            # The previous holder died without finishing: take the lease over.
            entry.locked_until = now + self.lease
            return Claim(account_id, scope, key)

    def complete(self, claim: Claim, status: int, body: bytes) -> None:
        with self.sessions.begin() as session:
            self.complete_in(session, claim, status, body)

    def complete_in(self, session: Session, claim: Claim, status: int, body: bytes) -> None:
        """Store the response in the caller's transaction, so that it commits with the
        work it describes: a process that dies after that commit leaves a replayable
        response, never a stored record behind a claim a retry would run again."""
        entry = IdempotencyRepository(session).get(
            claim.account_id, claim.scope, claim.key, lock=True
        )
        if entry is None:
            return
        entry.state = "done"
        entry.response_status = status
        entry.response_body = body

    def release(self, claim: Claim) -> None:
        """Forget a claim whose request failed unexpectedly, so a retry can run it again."""
        with self.sessions.begin() as session:
            entry = IdempotencyRepository(session).get(
                claim.account_id, claim.scope, claim.key, lock=True
            )
            if entry is not None and entry.state == "in_progress":
                session.delete(entry)
