"""The token table: root keys, what each token was minted for, and redemption.

A token moves ``issued`` → ``redeeming`` (leased to the request carrying it out) →
``redeemed`` (its answer stored). A lease that lapses, because the server died
mid-request, lets the next retry carry the request out again; the operations are
idempotent, so that retry yields the answer the first attempt would have.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from notarium.adapters.pki.secretbox import SecretBox
from notarium.adapters.store.db import SessionFactory
from notarium.core.clock import Clock
from notarium.products.l402.errors import InvalidToken, RequestInProgress
from notarium.products.l402.repository import L402Repository, NewTokenRow


@dataclass(frozen=True)
class StoredToken:
    token_id: str
    payment_hash: str
    root_key: bytes | None
    """``None`` once revoked."""
    action: str
    request_digest: str
    amount_sats: int
    state: str


@dataclass(frozen=True)
class NewToken:
    token_id: str
    payment_hash: str
    root_key: bytes
    action: str
    request_digest: str
    amount_sats: int
    invoice: str
    expires_at: datetime


class TokenStore:
    def __init__(self, sessions: SessionFactory, box: SecretBox, clock: Clock) -> None:
        self.sessions = sessions
        self.box = box
        self.clock = clock

    def _context(self, token_id: str, what: str) -> bytes:
        return f"l402:{what}:{token_id}".encode()

    def issue(self, token: NewToken) -> None:
        with self.sessions.begin() as session:
            L402Repository(session).add_token(
                NewTokenRow(
                    id=token.token_id,
                    payment_hash=token.payment_hash,
                    root_key_sealed=self.box.seal(
                        token.root_key.hex(), context=self._context(token.token_id, "root")
                    ),
                    action=token.action,
                    request_digest=token.request_digest,
                    amount_sats=token.amount_sats,
                    invoice=token.invoice,
                    created_at=self.clock.now(),
                    expires_at=token.expires_at,
                )
            )

    def get(self, token_id: str) -> StoredToken | None:
        with self.sessions() as session:
            row = L402Repository(session).token(token_id)
        if row is None:
            return None
        root = (
            bytes.fromhex(self.box.open(row.root_key_sealed, context=self._context(row.id, "root")))
            if row.root_key_sealed is not None
            else None
        )
        return StoredToken(
            row.id,
            row.payment_hash,
            root,
            row.action,
            row.request_digest,
            row.amount_sats,
            row.state,
        )

    def claim(self, token_id: str, lease: timedelta) -> dict[str, Any] | None:
        """The stored result of a redeemed token, or ``None`` once this caller holds the
        token's lease and must carry the request out."""
        now = self.clock.now()
        with self.sessions.begin() as session:
            tokens = L402Repository(session)
            row = tokens.token(token_id, lock=True)
            if row is None:
                raise InvalidToken("This L402 token is unknown.")
            if row.state == "redeemed" and row.result_sealed is not None:
                answer: dict[str, Any] = json.loads(
                    self.box.open(row.result_sealed, context=self._context(row.id, "result"))
                )
                return answer
            if row.state == "redeeming" and row.lease_until is not None and row.lease_until > now:
                raise RequestInProgress(
                    "This paid request is being carried out right now; retry in a few seconds."
                )
            tokens.lease_token(token_id, now + lease)
            return None

    def release(self, token_id: str) -> None:
        """Give the lease back after a failure, so a retry may try again at once."""
        with self.sessions.begin() as session:
            tokens = L402Repository(session)
            row = tokens.token(token_id, lock=True)
            if row is not None and row.state == "redeeming":
                tokens.release_token(token_id)

    def complete(self, token_id: str, answer: dict[str, Any], record_id: str | None) -> None:
        with self.sessions.begin() as session:
            self.mark_redeemed(session, token_id, answer, record_id)

    def mark_redeemed(
        self, session: Session, token_id: str, answer: dict[str, Any], record_id: str | None
    ) -> None:
        """In the caller's transaction, so the result is stored exactly when the work it
        reports is committed."""
        tokens = L402Repository(session)
        if tokens.token(token_id, lock=True) is None:
            return
        sealed = self.box.seal(
            json.dumps(answer, separators=(",", ":")), context=self._context(token_id, "result")
        )
        tokens.redeem_token(token_id, sealed, record_id, self.clock.now())

    def revoke(self, token_id: str) -> bool:
        """Erase the root key: the macaroon can never be verified again. False when
        there is no such token."""
        with self.sessions.begin() as session:
            tokens = L402Repository(session)
            if tokens.token(token_id, lock=True) is None:
                return False
            tokens.revoke_token(token_id, self.clock.now())
            return True

    def purge_expired(self, grace: timedelta, *, limit: int = 500) -> int:
        """Forget tokens expired for longer than ``grace`` (unpaid challenges included):
        their credentials are refused anyway, and the table must not grow forever."""
        with self.sessions.begin() as session:
            return L402Repository(session).purge_tokens(self.clock.now() - grace, limit)
