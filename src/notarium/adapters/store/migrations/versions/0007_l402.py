"""L402 tokens, the notification settings of L402 timestamps, their mail outbox

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 19:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import notarium.adapters.store.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "l402_tokens",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("payment_hash", sa.String(length=64), nullable=False),
        sa.Column("root_key_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("request_digest", sa.String(length=64), nullable=False),
        sa.Column("amount_sats", sa.BigInteger(), nullable=False),
        sa.Column("invoice", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("lease_until", notarium.adapters.store.types.UTCDateTime(), nullable=True),
        sa.Column("result_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("record_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", notarium.adapters.store.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", notarium.adapters.store.types.UTCDateTime(), nullable=False),
        sa.Column("redeemed_at", notarium.adapters.store.types.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", notarium.adapters.store.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_l402_tokens_record_id_records"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_l402_tokens")),
        sa.UniqueConstraint("payment_hash", name=op.f("uq_l402_tokens_payment_hash")),
    )
    with op.batch_alter_table("l402_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_l402_tokens_expires", ["expires_at"], unique=False)

    op.create_table(
        "l402_timestamps",
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("webhook_url", sa.Text(), nullable=True),
        sa.Column("webhook_endpoint_id", sa.String(length=36), nullable=True),
        sa.Column("notification_email", sa.String(length=320), nullable=True),
        sa.Column("file_stored", sa.Boolean(), nullable=False),
        sa.Column("created_at", notarium.adapters.store.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", notarium.adapters.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_l402_timestamps_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["webhook_endpoint_id"],
            ["webhook_endpoints.id"],
            name=op.f("fk_l402_timestamps_webhook_endpoint_id_webhook_endpoints"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_l402_timestamps")),
    )

    op.create_table(
        "l402_mail_outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", notarium.adapters.store.types.UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", notarium.adapters.store.types.UTCDateTime(), nullable=False),
        sa.Column("sent_at", notarium.adapters.store.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_l402_mail_outbox_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_l402_mail_outbox")),
    )
    with op.batch_alter_table("l402_mail_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_l402_mail_outbox_due", ["state", "next_attempt_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("l402_mail_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_l402_mail_outbox_due")
    op.drop_table("l402_mail_outbox")
    op.drop_table("l402_timestamps")
    with op.batch_alter_table("l402_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_l402_tokens_expires")
    op.drop_table("l402_tokens")
