"""web captures, their evidence, assisted-capture grants; wider usage periods

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 10:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import notarium.adapters.store.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_captures",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("final_url", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("assisted", sa.Boolean(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("created_at", notarium.adapters.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_web_captures_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_web_captures_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_captures")),
    )
    with op.batch_alter_table("web_captures", schema=None) as batch_op:
        batch_op.create_index(
            "ix_web_captures_owner_created", ["account_id", "mode", "created_at"], unique=False
        )
    op.create_table(
        "capture_artifacts",
        sa.Column("capture_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["capture_id"],
            ["web_captures.id"],
            name=op.f("fk_capture_artifacts_capture_id_web_captures"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("capture_id", "name", name=op.f("pk_capture_artifacts")),
    )
    op.create_table(
        "assisted_capture_grants",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("protection", sa.String(length=32), nullable=False),
        sa.Column("created_at", notarium.adapters.store.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", notarium.adapters.store.types.UTCDateTime(), nullable=False),
        sa.Column("capture_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_assisted_capture_grants_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_assisted_capture_grants")),
    )
    with op.batch_alter_table("usage_counters", schema=None) as batch_op:
        batch_op.alter_column(
            "period",
            existing_type=sa.String(length=7),
            type_=sa.String(length=24),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("usage_counters", schema=None) as batch_op:
        batch_op.alter_column(
            "period",
            existing_type=sa.String(length=24),
            type_=sa.String(length=7),
            existing_nullable=False,
        )
    op.drop_table("assisted_capture_grants")
    op.drop_table("capture_artifacts")
    with op.batch_alter_table("web_captures", schema=None) as batch_op:
        batch_op.drop_index("ix_web_captures_owner_created")
    op.drop_table("web_captures")
