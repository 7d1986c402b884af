"""Model read use cases (list, get, lifecycle history) for the owning project."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Row, bindparam, select

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
