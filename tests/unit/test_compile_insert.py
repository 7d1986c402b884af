"""``compile_insert``: the INSERT text for the event loop, and the ORM's scalar defaults it must be
run with (SQLAlchemy applies them in Python, the database knows nothing of them)."""

from __future__ import annotations

import pytest

from xerotier.db.async_reads import compile_insert
from xerotier.db.models import Model

_GIVEN = ("id", "project_id", "name", "version", "status", "status_changed_at", "created_at", "updated_at")


def test_columns_left_out_come_back_with_their_scalar_defaults() -> None:
    sql, defaults = compile_insert(Model.__table__, _GIVEN)
    assert sql.startswith("INSERT INTO models (")
    assert "%(name)s" in sql and "%(attempts)s" in sql
    assert defaults["attempts"] == 0 and defaults["is_shared"] is False and defaults["deployment_count"] == 0
    assert not set(defaults) & set(_GIVEN)


def test_a_column_with_a_computed_default_must_be_given() -> None:
    without_id = [key for key in _GIVEN if key != "id"]  # id defaults to uuid4(): a callable
    with pytest.raises(ValueError, match="column id has no scalar default"):
        compile_insert(Model.__table__, without_id)
