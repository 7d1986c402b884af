"""Schema migrations (Alembic) and the check that refuses to run on an unmigrated database."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from xerotier.errors import DatabaseNotMigrated

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to every head (the migration graph may have several branches)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")


def expected_heads() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def current_heads(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def ensure_migrated(engine: Engine) -> None:
    """Raise ``DatabaseNotMigrated`` unless the database is at the code's heads."""
    current, expected = current_heads(engine), expected_heads()
    if current != expected:
        raise DatabaseNotMigrated(",".join(sorted(current)) or None, ",".join(sorted(expected)))
