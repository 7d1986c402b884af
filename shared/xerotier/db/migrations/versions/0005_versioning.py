"""versioning: promotion history, pending promotions, one version per precedence, list indexes

Revision ID: 0005_versioning
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_versioning"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# "The same version" is the same SemVer precedence: the version string without its build metadata.
_CORE = {
    "postgresql": "split_part(version, '+', 1)",
    "sqlite": "CASE WHEN instr(version, '+') > 0"
    " THEN substr(version, 1, instr(version, '+') - 1) ELSE version END",
}
# Keyset pages over names sort bytewise (COLLATE "C") so a prefix is one index range on PostgreSQL.
_NAME = {"postgresql": 'name COLLATE "C"', "sqlite": "name"}


def upgrade() -> None:
    op.create_table(
        "promotion_events",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("from_model_id", sa.Uuid(), nullable=True),
        sa.Column("from_version", sa.String(length=128), nullable=True),
        sa.Column("to_model_id", sa.Uuid(), nullable=True),
        sa.Column("to_version", sa.String(length=128), nullable=True),
        sa.Column("actor_key_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_promotion_events_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotion_events")),
    )
    with op.batch_alter_table("promotion_events", schema=None) as batch_op:
        batch_op.create_index("ix_promotion_events_project_name", ["project_id", "name", "id"], unique=False)
    op.create_table(
        "pending_promotions",
        sa.Column("model_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("actor_key_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["models.id"],
            name=op.f("fk_pending_promotions_model_id_models"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_pending_promotions_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("model_id", name=op.f("pk_pending_promotions")),
    )
    with op.batch_alter_table("pending_promotions", schema=None) as batch_op:
        batch_op.create_index("uq_pending_promotions_project_name", ["project_id", "name"], unique=True)

    dialect = op.get_bind().dialect.name
    core, name = _CORE.get(dialect, _CORE["postgresql"]), _NAME.get(dialect, "name")
    op.execute(f"CREATE UNIQUE INDEX uq_models_version_precedence ON models (project_id, name, ({core}))")
    op.execute(f"CREATE INDEX ix_models_latest_name ON models (project_id, ({name}), id) WHERE is_latest")
    op.execute(f"CREATE INDEX ix_models_project_name ON models (project_id, ({name}), id)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_models_project_name")
    op.execute("DROP INDEX IF EXISTS ix_models_latest_name")
    op.execute("DROP INDEX IF EXISTS uq_models_version_precedence")
    op.drop_table("pending_promotions")
    op.drop_table("promotion_events")
