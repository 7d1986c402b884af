"""outbox: the request id of the request that caused each task (merges the 0005 and 0006 heads)

Revision ID: 0007_outbox_request_id
Revises: 0005_versioning, 0006_sharing
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_outbox_request_id"
down_revision: str | Sequence[str] | None = ("0005_versioning", "0006_sharing")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_id", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("request_id")
