"""Tables. One ``records`` table serves every route family: a certificate, a hash
timestamp, a seal and a capture are all a hash with a token underneath."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from notarium.adapters.store.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL wants BIGINT for headroom.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    plan: Mapped[str] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(String(8))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(32))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (Index("ix_api_keys_account", "account_id", "mode"),)


class Record(Base):
    __tablename__ = "records"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(32))
    certificate_id: Mapped[str] = mapped_column(String(32), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(Text)
    file_size_bytes: Mapped[int] = mapped_column(BigInteger)
    file_type: Mapped[str | None] = mapped_column(String(255), nullable=True)
    metadata_json: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    metadata_digest: Mapped[str] = mapped_column(String(64), default="", server_default="")
    """Part of what makes a record a duplicate: empty, except for hash certificates with
    metadata, where it is the SHA-256 of the metadata's canonical JSON (the same hash may
    be certified once per distinct metadata)."""
    public_metadata: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    blockchain_tx: Mapped[str | None] = mapped_column(String(64), nullable=True)
    bitcoin_block: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    tsa_serial: Mapped[int] = mapped_column(BigInteger, unique=True)
    tsa_token: Mapped[bytes] = mapped_column(LargeBinary)
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("batches.id", ondelete="SET NULL"), nullable=True
    )
    leaf_nonce: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    merkle_path: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    log_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True, unique=True)

    __table_args__ = (
        UniqueConstraint(
            "account_id", "mode", "sha256", "metadata_digest", name="uq_records_owner_hash"
        ),
        Index("ix_records_unbatched", "status", "batch_id"),
        Index("ix_records_batch", "batch_id"),
        Index("ix_records_owner_created", "account_id", "mode", "created_at"),
        Index("ix_records_sha256", "sha256"),
    )


class TsaIssuance(Base):
    """Every token the authority signs, in serial order; the autoincrement id is the serial,
    so serials stay unique and increasing across any number of server processes."""

    __tablename__ = "tsa_issuance"

    serial: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    hash_algorithm: Mapped[str] = mapped_column(String(16))
    digest_hex: Mapped[str] = mapped_column(String(128))


class UsageCounter(Base):
    __tablename__ = "usage_counters"

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    # "2026-11" for the monthly timestamp allowance, "capture:2026-11-21" for daily captures.
    period: Mapped[str] = mapped_column(String(24), primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)


class IdempotencyEntry(Base):
    __tablename__ = "idempotency_keys"

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    response_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    locked_until: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Batch(Base):
    """One Merkle tree over the records batched in one interval; its root is what every
    anchor commits to."""

    __tablename__ = "batches"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    mode: Mapped[str] = mapped_column(String(8))
    root: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_count: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    bitcoin_txid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    bitcoin_height: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    __table_args__ = (Index("ix_batches_status", "status"),)


class BatchAnchor(Base):
    """One anchor's progress for one batch. ``next_attempt_at`` doubles as a lease: a
    worker that claims the row pushes it forward, so a killed worker's claim lapses."""

    __tablename__ = "batch_anchors"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(512))
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    payload: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    subject: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    """What the anchor commits to when it is not the batch root: a record's own hash, for
    authorities configured to time-stamp each record."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    bitcoin_txid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    bitcoin_height: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    bitcoin_block_time: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("batch_id", "name", name="uq_batch_anchors_batch_name"),
        Index("ix_batch_anchors_due", "state", "next_attempt_at"),
    )


class LogLeaf(Base):
    """The transparency log: dense indices from 0, each a record's RFC 6962 leaf hash."""

    __tablename__ = "log_leaves"

    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    record_id: Mapped[str] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), unique=True
    )
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary)


class LogCheckpoint(Base):
    __tablename__ = "log_checkpoints"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary)
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Schedule(Base):
    """Singleton jobs (one batch per interval across every worker): a worker runs a job
    only while holding its row's lock and only once ``next_run_at`` has passed."""

    __tablename__ = "schedules"

    job: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(String(8))
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    previous_secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    previous_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    disabled_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_webhook_endpoints_owner", "account_id", "mode"),)


class WebhookEvent(Base):
    """The outbox: one row per event, written in the transaction that changed the record,
    so an event can never be lost between the change and its delivery."""

    __tablename__ = "webhook_events"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(String(8))
    type: Mapped[str] = mapped_column(String(64))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("webhook_events.id", ondelete="CASCADE"))
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "created_at"),
    )


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE")
    )
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    latency_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (Index("ix_webhook_attempts_delivery", "delivery_id"),)


class WebCapture(Base):
    """A certified web capture. Its manifest's hash is the record underneath it."""

    __tablename__ = "web_captures"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(String(8))
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(Text)
    final_url: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    assisted: Mapped[bool] = mapped_column(Boolean, default=False)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_web_captures_owner_created", "account_id", "mode", "created_at"),)


class CaptureArtifact(Base):
    """Evidence files, kept in the database so every server of a scaled deployment can
    serve them and none is lost with one host's disk."""

    __tablename__ = "capture_artifacts"

    capture_id: Mapped[str] = mapped_column(
        ForeignKey("web_captures.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class AssistedCaptureGrant(Base):
    """A link that lets a person clear a challenge in a live browser for one account.
    Only the token's hash is stored."""

    __tablename__ = "assisted_capture_grants"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(String(8))
    key_id: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(Text)
    protection: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    capture_id: Mapped[str | None] = mapped_column(String(36), nullable=True)


class JwtCredential(Base):
    """Key id and secret for JWT (HS256) authentication. The secret is sealed, not hashed:
    verifying an HMAC needs the secret itself."""

    __tablename__ = "jwt_credentials"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(String(8))
    secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (Index("ix_jwt_credentials_account", "account_id"),)


class L402Token(Base):
    """One L402 token: its macaroon's root key (sealed; erasing it revokes the token),
    the request it was minted for, and once redeemed the answer it bought (sealed too, as
    it may carry a webhook secret), kept so a retry of the paid request gets that answer."""

    __tablename__ = "l402_tokens"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    payment_hash: Mapped[str] = mapped_column(String(64), unique=True)
    root_key_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    action: Mapped[str] = mapped_column(String(32))
    request_digest: Mapped[str] = mapped_column(String(64))
    amount_sats: Mapped[int] = mapped_column(BigInteger)
    invoice: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    result_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    record_id: Mapped[str | None] = mapped_column(
        ForeignKey("records.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (Index("ix_l402_tokens_expires", "expires_at"),)


class L402Timestamp(Base):
    """What an L402 timestamp adds to its record: where its status changes are announced,
    and whether its file was kept."""

    __tablename__ = "l402_timestamps"

    record_id: Mapped[str] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), primary_key=True
    )
    webhook_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    webhook_endpoint_id: Mapped[str | None] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="SET NULL"), nullable=True
    )
    notification_email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    file_stored: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class L402Mail(Base):
    """The L402 confirmation e-mails, written in the transaction that confirmed the
    record, so none is lost between the confirmation and the mail server."""

    __tablename__ = "l402_mail_outbox"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (Index("ix_l402_mail_outbox_due", "state", "next_attempt_at"),)
