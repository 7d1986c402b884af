"""Model read use cases (list, get, lifecycle history) for the owning project."""

from __future__ import annotations

import functools
import uuid
from typing import Any

from sqlalchemy import Row, bindparam, select

from xerotier.api.serialize import model_json_column
from xerotier.db.async_reads import AsyncReader, compile_for_psycopg
from xerotier.db.models import LifecycleEventRow, Model
from xerotier.db.reads import autocommit_connection, autocommit_session
from xerotier.errors import NotFound
from xerotier.runtime import Runtime

_MODELS = Model.__table__
#: Built once (a hot read): the project is part of the key, so a foreign model is simply not found.
_GET_MODEL = select(_MODELS).where(
    _MODELS.c.id == bindparam("id"), _MODELS.c.project_id == bindparam("project")
)


def get_model(runtime: Runtime, project_id: str, model_id: uuid.UUID) -> Row[Any]:
    """One version as a row of the models table (the attributes of ``Model``), read without the ORM."""
    with autocommit_connection(runtime.engine) as connection:
        model = connection.execute(_GET_MODEL, {"id": model_id, "project": project_id}).first()
    if model is None:
        raise NotFound("Model not found")
    return model


_GET_MODEL_RENDERED = functools.cache(
    lambda: compile_for_psycopg(_GET_MODEL.with_only_columns(model_json_column()))
)


async def get_model_rendered(db: AsyncReader, project_id: str, model_id: uuid.UUID) -> str:
    """``get_model`` on the event loop (PostgreSQL): the version as JSON text, rendered by the
    database exactly as ``model_json`` writes it."""
    row = await db.fetch_one(_GET_MODEL_RENDERED(), {"id": model_id, "project": project_id})
    if row is None:
        raise NotFound("Model not found")
    return row[0]


def list_models(
    runtime: Runtime, project_id: str, *, all_versions: bool = False, limit: int = 50
) -> list[Model]:
    with autocommit_session(runtime.engine) as session:
        query = select(Model).where(Model.project_id == project_id)
        if not all_versions:
            query = query.where(Model.is_latest)
        query = query.order_by(Model.created_at.desc(), Model.id).limit(limit)
        return list(session.scalars(query))


def lifecycle_events(runtime: Runtime, project_id: str, model_id: uuid.UUID) -> list[LifecycleEventRow]:
    with autocommit_session(runtime.engine) as session:
        model = session.get(Model, model_id)
        if model is None or model.project_id != project_id:
            raise NotFound("Model not found")
        return list(
            session.scalars(
                select(LifecycleEventRow)
                .where(LifecycleEventRow.model_id == model_id)
                .order_by(LifecycleEventRow.id)
            )
        )
