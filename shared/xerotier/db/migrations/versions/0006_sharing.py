"""sharing: catalog keyset index, live-endpoint index

Revision ID: 0006_sharing
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_sharing"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.create_index(
            "ix_models_catalog",
            [sa.text("shared_at DESC"), sa.text("id DESC")],
            unique=False,
            postgresql_where=sa.text("is_shared"),
            sqlite_where=sa.text("is_shared"),
        )
    with op.batch_alter_table("endpoints", schema=None) as batch_op:
        batch_op.create_index(
            "ix_endpoints_live_model",
            ["model_project_id", "model_name", "tier"],
            unique=False,
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("endpoints", schema=None) as batch_op:
        batch_op.drop_index("ix_endpoints_live_model")
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.drop_index("ix_models_catalog")
