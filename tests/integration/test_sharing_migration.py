"""Migration 0006_sharing: its indexes exist on PostgreSQL and SQLite and match the metadata."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from xerotier.db.engine import make_engine
from xerotier.db.migrate import upgrade
from xerotier.db.schema import metadata

pytestmark = pytest.mark.integration
OURS = {"ix_models_catalog", "ix_endpoints_live_model"}


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_sharing_indexes_exist_and_agree_with_the_models(backend, pg_url, tmp_path):
    url = pg_url if backend == "postgresql" else f"sqlite:///{tmp_path / 'x.db'}"
    engine = make_engine(url)
    upgrade(engine)
    inspector = inspect(engine)
    names = {ix["name"] for t in ("models", "endpoints") for ix in inspector.get_indexes(t)}
    assert names >= OURS
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), metadata)
    ours = [d for d in diff if isinstance(d, tuple) and getattr(d[1], "name", None) in OURS]
    assert ours == []
    engine.dispose()
