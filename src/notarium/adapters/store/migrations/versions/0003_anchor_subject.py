"""anchors that commit to a record's own hash

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 16:35:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("batch_anchors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("batch_anchors", schema=None) as batch_op:
        batch_op.drop_column("subject")
