"""Migration 0010 on PostgreSQL and SQLite: the parent index (a delete no longer scans the table),
the version sort key filled in for versions that existed before it, the list-filter indexes."""

from __future__ import annotations

import uuid

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text

from xerotier.db.engine import make_engine
from xerotier.db.migrate import alembic_config, upgrade
from xerotier.domain.versioning import sort_key

pytestmark = pytest.mark.integration
INDEXES = {
    "ix_models_parent_version_id",
    "ix_models_name_version_key",
    "ix_models_filter_status",
    "ix_models_filter_architecture",
    "ix_models_filter_workload",
}
OLD_VERSIONS = ["1.0.0", "1.10.0", "2.0.0-rc.1", "1.2.0+build.5"]


def _upgrade_to(engine: Engine, revision: str) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _downgrade_to(engine: Engine, revision: str) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _old_rows(engine: Engine) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in OLD_VERSIONS]
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO projects (id, slug, created_at) VALUES ('proj_m', 'm', :now)"),
            {"now": "2026-01-01"},
        )
        for model_id, version in zip(ids, OLD_VERSIONS, strict=True):
            connection.execute(
                text(
                    "INSERT INTO models (id, project_id, name, version, is_latest, size_bytes, status,"
                    " status_changed_at, attempts, is_multimodal, is_pre_quantized, is_shared, featured,"
                    " deployment_count, created_at, updated_at) VALUES (:id, 'proj_m', 'old', :version,"
                    " false, 0, 'ready', :now, 0, false, false, false, false, 0, :now, :now)"
                ),
                {
                    "id": model_id.hex if engine.dialect.name == "sqlite" else model_id,
                    "version": version,
                    "now": "2026-01-01",
                },
            )
    return ids


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_0010_adds_the_indexes_and_fills_the_sort_key_of_existing_versions(backend, pg_url, tmp_path):
    url = pg_url if backend == "postgresql" else f"sqlite:///{tmp_path / 'x.db'}"
    engine = make_engine(url)
    _upgrade_to(engine, "0007_outbox_request_id")
    _old_rows(engine)
    upgrade(engine)
    names = {ix["name"] for ix in inspect(engine).get_indexes("models")}
    assert names >= INDEXES, INDEXES - names
    with engine.connect() as connection:
        keys = dict(connection.execute(text("SELECT version, version_key FROM models")).all())
        ordered = connection.execute(
            text(
                "SELECT version FROM models WHERE project_id = 'proj_m' AND name = 'old'"
                " ORDER BY version_key DESC"
            )
        ).scalars()
        assert list(ordered) == ["2.0.0-rc.1", "1.10.0", "1.2.0+build.5", "1.0.0"]
    assert keys == {v: sort_key(v) for v in OLD_VERSIONS}
    _downgrade_to(engine, "0007_outbox_request_id")
    assert not INDEXES & {ix["name"] for ix in inspect(engine).get_indexes("models")}
    upgrade(engine)
    engine.dispose()


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_clearing_a_deleted_versions_children_uses_the_parent_index(backend, pg_url, tmp_path):
    url = pg_url if backend == "postgresql" else f"sqlite:///{tmp_path / 'x.db'}"
    engine = make_engine(url)
    upgrade(engine)
    statement = "UPDATE models SET parent_version_id = NULL WHERE parent_version_id = :parent"
    with engine.begin() as connection:
        if backend == "postgresql":  # a tiny table is scanned by choice: ask what the index allows
            connection.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(
                connection.execute(text(f"EXPLAIN {statement}"), {"parent": uuid.uuid4()}).scalars()
            )
        else:
            rows = connection.execute(text(f"EXPLAIN QUERY PLAN {statement}"), {"parent": uuid.uuid4().hex})
            plan = "\n".join(str(r[-1]) for r in rows)
    assert "ix_models_parent_version_id" in plan, plan
    engine.dispose()
