"""The latest pointer of a model name, read and locked in the database (never cached).

``resolve_latest`` is what endpoints resolve through: after a promote commits, the next call
returns the new version. ``lock_name`` serializes writers of one ``(project, name)`` on PostgreSQL
(a transaction-scoped advisory lock); SQLite serializes writers by itself.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xerotier.db.models import Model
from xerotier.errors import NotFound


def resolve_latest(session: Session, project_id: str, name: str) -> Model | None:
    """The version of ``(project_id, name)`` marked latest, or None."""
    return session.scalar(
        select(Model).where(Model.project_id == project_id, Model.name == name, Model.is_latest)
    )


def lock_name(session: Session, project_id: str, name: str) -> None:
    """Hold a lock on ``(project_id, name)`` until this transaction ends (PostgreSQL).

    Rows loaded before the lock may have changed while waiting: they are expired (reloaded on use).
    """
    if session.get_bind().dialect.name == "postgresql":
        key = f"xerotier.name:{project_id}:{name}"
        session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))
    session.expire_all()


def reload_after_lock(session: Session, model_id: uuid.UUID) -> Model:
    """``model_id`` re-read after ``lock_name``; ``NotFound`` if it was deleted while we waited."""
    model = session.get(Model, model_id, populate_existing=True)
    if model is None:
        raise NotFound("Model not found")
    return model
