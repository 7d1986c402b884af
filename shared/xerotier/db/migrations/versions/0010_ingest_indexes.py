"""costs bounded by the work: parent index, version sort key, indexes for the list filters

- ``ix_models_parent_version_id``: deleting a version sets its children's ``parent_version_id`` to
  NULL (the self-referencing foreign key); without an index every delete scanned the table.
- ``models.version_key`` (``sort_key(version)``, bytewise order = SemVer precedence) and
  ``ix_models_name_version_key``: a keyset page of a model's versions is one index range.
- ``ix_models_filter_{status,architecture,workload}``: a list filter is an index range in name order
  (one that matches nothing reads nothing).

Revision ID: 0010_ingest_indexes
Revises: 0007_outbox_request_id
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from xerotier.domain.versioning import sort_key

revision: str = "0010_ingest_indexes"
down_revision: str | Sequence[str] | None = "0009_aliases_tags"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = {"postgresql": 'name COLLATE "C"', "sqlite": "name"}
_FILTERS = {"status": "status", "architecture": "architecture", "workload": "workload_type"}
_BATCH = 1000


def upgrade() -> None:
    key_type = sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql")
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version_key", key_type, nullable=True))
        batch_op.create_index("ix_models_parent_version_id", ["parent_version_id"], unique=False)
    _fill_version_keys()
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.create_index(
            "ix_models_name_version_key", ["project_id", "name", "version_key", "id"], unique=False
        )
    name = _NAME.get(op.get_bind().dialect.name, "name")
    for suffix, column in _FILTERS.items():
        op.execute(f"CREATE INDEX ix_models_filter_{suffix} ON models (project_id, {column}, ({name}), id)")


def _fill_version_keys() -> None:
    """The sort key of every existing version, computed by the one function new rows use."""
    bind = op.get_bind()
    models = sa.table("models", sa.column("id", sa.Uuid()), sa.column("version", sa.String()))
    key = sa.table("models", sa.column("id", sa.Uuid()), sa.column("version_key", sa.String()))
    rows = bind.execute(sa.select(models.c.id, models.c.version)).all()
    update = (
        sa.update(key).where(key.c.id == sa.bindparam("row_id")).values(version_key=sa.bindparam("new_key"))
    )
    for start in range(0, len(rows), _BATCH):
        batch = rows[start : start + _BATCH]
        bind.execute(update, [{"row_id": r.id, "new_key": sort_key(r.version)} for r in batch])


def downgrade() -> None:
    for suffix in _FILTERS:
        op.execute(f"DROP INDEX IF EXISTS ix_models_filter_{suffix}")
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.drop_index("ix_models_name_version_key")
        batch_op.drop_index("ix_models_parent_version_id")
        batch_op.drop_column("version_key")
