"""Migrations run on PostgreSQL and SQLite; nothing starts on an unmigrated database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect

from xerotier.db.engine import make_engine
from xerotier.db.migrate import current_heads, ensure_migrated, expected_heads, upgrade
from xerotier.errors import DatabaseNotMigrated

pytestmark = pytest.mark.integration
BIN = Path(sys.executable).parent


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_upgrade_reaches_head_and_is_idempotent(backend, pg_url, tmp_path):
    url = pg_url if backend == "postgresql" else f"sqlite:///{tmp_path / 'x.db'}"
    engine = make_engine(url)
    with pytest.raises(DatabaseNotMigrated, match="xerotier db upgrade"):
        ensure_migrated(engine)
    upgrade(engine)
    upgrade(engine)
    assert current_heads(engine) == expected_heads()
    ensure_migrated(engine)
    indexes = {ix["name"]: ix for ix in inspect(engine).get_indexes("models")}
    assert indexes["uq_models_one_latest"]["unique"]
    engine.dispose()


@pytest.mark.parametrize("command", [["serve"], ["worker", "validation"]])
def test_processes_refuse_an_unmigrated_database(command, pg_url):
    env = {"XEROTIER_DATABASE_URL": pg_url, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [str(BIN / "xerotier"), *command], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "run `xerotier db upgrade`" in lines[0], done.stderr


def test_db_upgrade_command(pg_url):
    env = {"XEROTIER_DATABASE_URL": pg_url, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [str(BIN / "xerotier"), "db", "upgrade"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    engine = make_engine(pg_url)
    ensure_migrated(engine)
    engine.dispose()
