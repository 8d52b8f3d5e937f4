"""Hash certificates: one record per hash and distinct metadata

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 23:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("metadata_digest", sa.String(length=64), server_default="", nullable=False)
        )
        batch_op.drop_constraint("uq_records_owner_hash", type_="unique")
        batch_op.create_unique_constraint(
            "uq_records_owner_hash", ["account_id", "mode", "sha256", "metadata_digest"]
        )


def downgrade() -> None:
    # Only possible while no hash has two certificates; the constraint refuses otherwise.
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_constraint("uq_records_owner_hash", type_="unique")
        batch_op.create_unique_constraint("uq_records_owner_hash", ["account_id", "mode", "sha256"])
        batch_op.drop_column("metadata_digest")
