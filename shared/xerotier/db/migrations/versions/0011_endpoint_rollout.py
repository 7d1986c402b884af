"""endpoints: the roll-out (serving / target version, serving load, last request) and its event log

Revision ID: 0011_endpoint_rollout
Revises: 0007_outbox_request_id
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_endpoint_rollout"
down_revision: str | Sequence[str] | None = "0010_ingest_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("endpoints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("serving_model_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("serving_load_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("target_model_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("last_request_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "endpoint_events",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("endpoint_id", sa.Uuid(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=False),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("from_model_id", sa.Uuid(), nullable=True),
        sa.Column("to_model_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["endpoints.id"],
            name=op.f("fk_endpoint_events_endpoint_id_endpoints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_endpoint_events")),
    )
    with op.batch_alter_table("endpoint_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_endpoint_events_endpoint_id"), ["endpoint_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("endpoint_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_endpoint_events_endpoint_id"))
    op.drop_table("endpoint_events")
    with op.batch_alter_table("endpoints", schema=None) as batch_op:
        batch_op.drop_column("last_request_at")
        batch_op.drop_column("target_model_id")
        batch_op.drop_column("serving_load_id")
        batch_op.drop_column("serving_model_id")
