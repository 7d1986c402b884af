"""The latest pointer of a model name, read and locked in the database (never cached).

``resolve_latest`` is what endpoints resolve through: after a promote commits, the next call
returns the new version. ``lock_name`` serializes writers of one ``(project, name)`` on PostgreSQL
(a transaction-scoped advisory lock); SQLite serializes writers by itself.
"""

from __future__ import annotations

import functools
import uuid

from sqlalchemy import Select, String, bindparam, func, literal_column, select
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


def lock_name_of(session: Session, project_id: str, model_id: uuid.UUID) -> str:
    """Lock the name of the project's model ``model_id`` (as ``lock_name``) and return that name;
    ``NotFound`` if the project has no such model. On PostgreSQL one statement reads the name and
    takes the lock. The name may change while waiting (a rename): re-read the model after this."""
    statement = name_and_lock_statement(session.get_bind().dialect.name == "postgresql")
    row = session.connection().execute(statement, {"model_id": model_id, "project_id": project_id}).first()
    if row is None:
        raise NotFound("Model not found")
    session.expire_all()
    return row[0]


@functools.cache
def name_and_lock_statement(postgres: bool) -> Select:
    """The statement of ``lock_name_of`` (the name of ``:model_id`` in ``:project_id``)."""
    c = Model.__table__.c
    query = select(c.name).where(c.id == bindparam("model_id"), c.project_id == bindparam("project_id"))
    if postgres:
        # the key of lock_name, its constants written into the statement (no bound values)
        key = (
            literal_column("'xerotier.name:'", String) + c.project_id + literal_column("':'", String) + c.name
        )
        query = query.add_columns(func.pg_advisory_xact_lock(func.hashtextextended(key, literal_column("0"))))
    return query


def reload_after_lock(session: Session, model_id: uuid.UUID) -> Model:
    """``model_id`` re-read after ``lock_name``; ``NotFound`` if it was deleted while we waited."""
    model = session.get(Model, model_id, populate_existing=True)
    if model is None:
        raise NotFound("Model not found")
    return model
