"""Model read use cases (list, get, lifecycle history) for the owning project."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from xerotier.db.lookups import get_owned
from xerotier.db.models import LifecycleEventRow, Model
from xerotier.db.reads import autocommit_session
from xerotier.runtime import Runtime


def get_model(runtime: Runtime, project_id: str, model_id: uuid.UUID) -> Model:
    """One version of the project's model."""
    with autocommit_session(runtime.engine) as session:
        return get_owned(session, project_id, model_id)


def lifecycle_events(runtime: Runtime, project_id: str, model_id: uuid.UUID) -> list[LifecycleEventRow]:
    with autocommit_session(runtime.engine) as session:
        get_owned(session, project_id, model_id)
        return list(
            session.scalars(
                select(LifecycleEventRow)
                .where(LifecycleEventRow.model_id == model_id)
                .order_by(LifecycleEventRow.id)
            )
        )
