"""aliases and tags: model aliases (champion -> a version), model and version tags, alias history

Revision ID: 0009_aliases_tags
Revises: 0008_registered_models
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_aliases_tags"
down_revision: str | Sequence[str] | None = "0008_registered_models"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _registered_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["registered_model_id"],
        ["registered_models.id"],
        name=op.f(f"fk_{table}_registered_model_id_registered_models"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "model_aliases",
        sa.Column("registered_model_id", sa.Uuid(), nullable=False),
        sa.Column("alias", sa.String(length=64), nullable=False),
        sa.Column("model_id", sa.Uuid(), nullable=False),
        sa.Column("actor_key_id", sa.Uuid(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _registered_fk("model_aliases"),
        sa.ForeignKeyConstraint(
            ["model_id"], ["models.id"], name=op.f("fk_model_aliases_model_id_models"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("registered_model_id", "alias", name=op.f("pk_model_aliases")),
    )
    with op.batch_alter_table("model_aliases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_model_aliases_model_id"), ["model_id"], unique=False)
    op.create_table(
        "model_tags",
        sa.Column("registered_model_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        _registered_fk("model_tags"),
        sa.PrimaryKeyConstraint("registered_model_id", "key", name=op.f("pk_model_tags")),
    )
    op.create_table(
        "version_tags",
        sa.Column("model_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"], ["models.id"], name=op.f("fk_version_tags_model_id_models"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("model_id", "key", name=op.f("pk_version_tags")),
    )
    with op.batch_alter_table("promotion_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("alias", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("promotion_events", schema=None) as batch_op:
        batch_op.drop_column("alias")
    op.drop_table("version_tags")
    op.drop_table("model_tags")
    op.drop_table("model_aliases")
