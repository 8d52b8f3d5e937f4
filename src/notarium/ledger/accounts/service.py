"""Accounts and their API keys: creation, rotation, revocation, authentication."""

from __future__ import annotations

import hmac
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from notarium.adapters.pki.secretbox import SecretBox
from notarium.adapters.store.db import SessionFactory
from notarium.adapters.store.models import Account, ApiKey, JwtCredential
from notarium.adapters.store.repositories import AccountRepository, ApiKeyRepository
from notarium.core.clock import Clock
from notarium.core.errors import (
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    NotFoundError,
    ValidationError,
)
from notarium.core.text import has_control
from notarium.ledger.accounts.jwt_auth import TokenPolicy, looks_like_jwt, verify_token
from notarium.ledger.accounts.keys import (
    ALPHABET,
    GeneratedKey,
    Mode,
    generate_key,
    hash_key,
    key_prefix,
    parse_mode,
    prefix_of,
)
from notarium.ledger.accounts.plans import Plan, plan_named
from notarium.ledger.accounts.scopes import DEFAULT_SCOPES, validate_scopes


@dataclass(frozen=True)
class AccountView:
    id: str
    name: str
    plan: str
    created_at: datetime
    email: str | None = None


@dataclass(frozen=True)
class KeyView:
    id: str
    account_id: str
    mode: str
    hint: str
    scopes: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class IssuedKey:
    """A freshly generated key: the only moment its secret exists outside the client."""

    key: KeyView
    secret: str


@dataclass(frozen=True)
class IssuedCredentials:
    key_id: str
    secret: str
    mode: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class CredentialsView:
    key_id: str
    mode: str
    scopes: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class Principal:
    account_id: str
    account_name: str
    plan: Plan
    key_id: str
    mode: Mode
    scopes: frozenset[str]


class AccountNotFound(NotFoundError):
    code = "ACCOUNT_NOT_FOUND"


class KeyNotFound(NotFoundError):
    code = "KEY_NOT_FOUND"


def _account_view(row: Account) -> AccountView:
    return AccountView(
        id=row.id, name=row.name, plan=row.plan, created_at=row.created_at, email=row.email
    )


def check_email(email: str | None) -> str | None:
    """Where notices about the account go; a plain shape check, no delivery test."""
    if email is None or email == "":
        return None
    if len(email) > 320 or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise ValidationError(f"{email!r} is not an e-mail address", code="INVALID_EMAIL")
    return email


def _key_view(row: ApiKey) -> KeyView:
    return KeyView(
        id=row.id,
        account_id=row.account_id,
        mode=row.mode,
        hint=row.hint,
        scopes=tuple(row.scopes),
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


class AccountService:
    def __init__(
        self,
        sessions: SessionFactory,
        clock: Clock,
        *,
        read_sessions: SessionFactory | None = None,
        box: SecretBox | None = None,
        token_policy: TokenPolicy | None = None,
    ) -> None:
        self.sessions = sessions
        self.read_sessions = read_sessions or sessions
        self.clock = clock
        self.box = box
        self.token_policy = token_policy or TokenPolicy()

    def create_account(
        self,
        name: str,
        plan: str,
        *,
        scopes: Sequence[str] = DEFAULT_SCOPES,
        email: str | None = None,
    ) -> tuple[AccountView, IssuedKey]:
        plan_named(plan)
        email = check_email(email)
        name = name.strip()
        if not name or has_control(name):
            raise ValidationError(
                "account name must be non-empty text without control characters",
                code="INVALID_ACCOUNT",
            )
        granted = validate_scopes(list(scopes))
        try:
            with self.sessions.begin() as session:
                accounts = AccountRepository(session)
                if accounts.by_name(name) is not None:
                    raise ConflictError(f"account {name!r} exists", code="ACCOUNT_EXISTS")
                row = Account(
                    id=str(uuid.uuid4()),
                    name=name,
                    plan=plan,
                    email=email,
                    created_at=self.clock.now(),
                )
                accounts.add(row)
                session.flush()
                issued = self._insert_key(session, row.id, generate_key("live"), granted)
                return _account_view(row), issued
        except IntegrityError:
            raise ConflictError(f"account {name!r} exists", code="ACCOUNT_EXISTS") from None

    def get_account(self, name_or_id: str) -> AccountView:
        with self.sessions() as session:
            return _account_view(self._find(session, name_or_id))

    def list_accounts(self) -> list[AccountView]:
        with self.sessions() as session:
            return [_account_view(a) for a in AccountRepository(session).all()]

    def set_email(self, name_or_id: str, email: str | None) -> AccountView:
        checked = check_email(email)
        with self.sessions.begin() as session:
            row = self._find(session, name_or_id)
            row.email = checked
            return _account_view(row)

    def set_plan(self, name_or_id: str, plan: str) -> AccountView:
        plan_named(plan)
        with self.sessions.begin() as session:
            row = self._find(session, name_or_id)
            row.plan = plan
            return _account_view(row)

    def create_key(
        self,
        name_or_id: str,
        *,
        mode: Mode | None = None,
        scopes: Sequence[str] | None = None,
        prefix: str | None = None,
    ) -> IssuedKey:
        """A new key. ``prefix`` (a brand such as ``prv``, or ``prv_test_``) replaces
        ``ntk``; the mode is ``mode``, else the one the prefix names, else live."""
        granted = validate_scopes(list(scopes) if scopes else list(DEFAULT_SCOPES))
        generated = generate_key(mode, prefix)
        with self.sessions.begin() as session:
            account = self._find(session, name_or_id)
            return self._insert_key(session, account.id, generated, granted)

    def rotate_key(
        self,
        name_or_id: str,
        *,
        mode: Mode | None = None,
        scopes: Sequence[str] | None = None,
        prefix: str | None = None,
    ) -> IssuedKey:
        """Revoke every active key of this mode and issue one new key, atomically: the
        previous credential stops working the moment this commits. The new key keeps the
        prefix of the newest key it replaces unless ``prefix`` is given."""
        _, mode = key_prefix(prefix, mode)
        with self.sessions.begin() as session:
            account = self._find(session, name_or_id)
            keys = ApiKeyRepository(session)
            active = [
                k for k in keys.for_account(account.id) if k.mode == mode and k.revoked_at is None
            ]
            if scopes:
                granted = validate_scopes(list(scopes))
            else:
                inherited = sorted({s for k in active for s in k.scopes})
                granted = inherited or list(DEFAULT_SCOPES)
            if prefix is None and active:
                prefix = prefix_of(max(active, key=lambda k: k.created_at).hint)
            generated = generate_key(mode, prefix)
            keys.revoke_active(account.id, mode, self.clock.now())
            return self._insert_key(session, account.id, generated, granted)

    def revoke_key(self, key_id: str) -> KeyView:
        with self.sessions.begin() as session:
            row = ApiKeyRepository(session).by_id(key_id)
            if row is None:
                raise KeyNotFound(f"no key {key_id}")
            if row.revoked_at is None:
                row.revoked_at = self.clock.now()
            return _key_view(row)

    def list_keys(self, name_or_id: str) -> list[KeyView]:
        with self.sessions() as session:
            account = self._find(session, name_or_id)
            return [_key_view(k) for k in ApiKeyRepository(session).for_account(account.id)]

    # -- JWT credentials ---------------------------------------------------------------

    def create_credentials(
        self,
        name_or_id: str,
        *,
        mode: Mode = "live",
        scopes: Sequence[str] | None = None,
        key_id: str | None = None,
        secret: str | None = None,
    ) -> IssuedCredentials:
        """New JWT credentials (the secret is shown once). An existing key id and secret
        may be given, so clients moving from another service keep theirs."""
        box = self._box()
        granted = validate_scopes(list(scopes) if scopes else list(DEFAULT_SCOPES))
        key_id = key_id or str(uuid.uuid4())
        secret = secret or "".join(secrets.choice(ALPHABET) for _ in range(54))
        if not 1 <= len(key_id) <= 64 or len(secret) < 32:
            raise ValidationError(
                "a key id has 1 to 64 characters and a secret at least 32",
                code="INVALID_CREDENTIALS",
            )
        with self.sessions.begin() as session:
            account = self._find(session, name_or_id)
            if session.get(JwtCredential, key_id) is not None:
                raise ConflictError(f"key id {key_id} exists", code="CREDENTIALS_EXIST")
            session.add(
                JwtCredential(
                    id=key_id,
                    account_id=account.id,
                    mode=mode,
                    secret_sealed=box.seal(secret, context=key_id.encode()),
                    scopes=granted,
                    created_at=self.clock.now(),
                )
            )
        return IssuedCredentials(key_id=key_id, secret=secret, mode=mode, scopes=tuple(granted))

    def list_credentials(self, name_or_id: str) -> list[CredentialsView]:
        with self.sessions() as session:
            account = self._find(session, name_or_id)
            rows = session.scalars(
                select(JwtCredential)
                .where(JwtCredential.account_id == account.id)
                .order_by(JwtCredential.created_at)
            )
            return [
                CredentialsView(r.id, r.mode, tuple(r.scopes), r.created_at, r.revoked_at)
                for r in rows
            ]

    def revoke_credentials(self, key_id: str) -> None:
        with self.sessions.begin() as session:
            row = session.get(JwtCredential, key_id)
            if row is None:
                raise KeyNotFound(f"no credentials with key id {key_id}")
            if row.revoked_at is None:
                row.revoked_at = self.clock.now()

    def _box(self) -> SecretBox:
        if self.box is None:
            raise ValidationError(
                "JWT credentials need the server's secret box", code="CONFIGURATION_ERROR"
            )
        return self.box

    def _authenticate_jwt(self, token: str) -> Principal:
        found: dict[str, tuple[JwtCredential, Account]] = {}

        def secret_for(kid: str) -> str | None:
            with self.read_sessions() as session:
                row = session.get(JwtCredential, kid)
                if row is None or row.revoked_at is not None:
                    return None
                account = session.get(Account, row.account_id)
                if account is None:
                    return None
                found[kid] = (row, account)
                return self._box().open(row.secret_sealed, context=kid.encode())

        kid, _claims = verify_token(token, secret_for, self.clock, self.token_policy)
        row, account = found[kid]
        return Principal(
            account_id=account.id,
            account_name=account.name,
            plan=plan_named(account.plan),
            key_id=f"jwt:{row.id}",
            mode="test" if row.mode == "test" else "live",
            scopes=frozenset(row.scopes),
        )

    def authenticate(self, secret: str) -> Principal:
        if looks_like_jwt(secret):
            return self._authenticate_jwt(secret)
        mode = parse_mode(secret)
        if mode is None:
            raise AuthenticationError("The API key is malformed.", code="INVALID_API_KEY")
        digest = hash_key(secret)
        with self.read_sessions() as session:
            found = ApiKeyRepository(session).by_hash(digest)
        if found is None:
            raise AuthenticationError("The API key is not recognised.", code="INVALID_API_KEY")
        key, account = found
        # The index lookup already matched; comparing again in constant time keeps the
        # decision independent of how the database compares strings.
        if not hmac.compare_digest(key.key_hash, digest) or key.revoked_at is not None:
            raise AuthenticationError("The API key has been revoked.", code="INVALID_API_KEY")
        return Principal(
            account_id=account.id,
            account_name=account.name,
            plan=plan_named(account.plan),
            key_id=key.id,
            mode=mode,
            scopes=frozenset(key.scopes),
        )

    def _find(self, session: Session, name_or_id: str) -> Account:
        accounts = AccountRepository(session)
        row = accounts.by_id(name_or_id) or accounts.by_name(name_or_id)
        if row is None:
            raise AccountNotFound(f"no account named or numbered {name_or_id!r}")
        return row

    def _insert_key(
        self, session: Session, account_id: str, generated: GeneratedKey, scopes: list[str]
    ) -> IssuedKey:
        row = ApiKey(
            id=str(uuid.uuid4()),
            account_id=account_id,
            mode=generated.mode,
            key_hash=generated.digest,
            hint=generated.hint,
            scopes=scopes,
            created_at=self.clock.now(),
        )
        ApiKeyRepository(session).add(row)
        session.flush()
        return IssuedKey(key=_key_view(row), secret=generated.secret)

    def ensure_system_account(self, name: str, *, plan: str = "business") -> AccountView:
        """The account the service itself keeps records under (no API key, no e-mail):
        found by name, else created. Servers sharing a database may race to create it;
        the loser reads the winner's."""
        plan_named(plan)
        for _ in range(2):
            with self.sessions() as session:
                row = AccountRepository(session).by_name(name)
                if row is not None:
                    return _account_view(row)
            try:
                with self.sessions.begin() as session:
                    row = Account(
                        id=str(uuid.uuid4()),
                        name=name,
                        plan=plan,
                        email=None,
                        created_at=self.clock.now(),
                    )
                    AccountRepository(session).add(row)
                    session.flush()
                    return _account_view(row)
            except IntegrityError:
                continue
        raise ConfigurationError(f"cannot create or find the account {name!r}")
