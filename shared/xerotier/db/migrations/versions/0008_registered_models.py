"""registered models: one row per (project, name), the model's identity apart from its versions

Revision ID: 0008_registered_models
Revises: 0007_outbox_request_id
Create Date: 2026-12-04
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0008_registered_models"
down_revision: str | Sequence[str] | None = "0007_outbox_request_id"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "registered_models",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_registered_models_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registered_models")),
        sa.UniqueConstraint("project_id", "name", name=op.f("uq_registered_models_project_id_name")),
    )
    # every name that has versions today becomes a registered model
    bind = op.get_bind()
    names = bind.execute(sa.text("SELECT DISTINCT project_id, name FROM models")).all()
    now = datetime.now(UTC)
    if bind.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    if names:
        op.bulk_insert(
            table,
            [
                {"id": uuid.uuid4(), "project_id": p, "name": n, "created_at": now, "updated_at": now}
                for p, n in names
            ],
        )


def downgrade() -> None:
    op.drop_table("registered_models")
