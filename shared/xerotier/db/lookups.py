"""The one lookup of a model version by its owner: ``get_owned``. A version of another project
looks exactly like a missing one (404), whatever route or task asks."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from xerotier.db.models import Model
from xerotier.errors import NotFound

MODEL_NOT_FOUND = "Model not found"


def get_owned(
    session: Session, project_id: str | None, model_id: uuid.UUID, *, for_update: bool = False
) -> Model:
    """The version ``model_id`` if ``project_id`` owns it (``None``: any project, for the registry's
    own tasks); ``for_update`` row-locks it (PostgreSQL) and re-reads it. ``NotFound`` otherwise."""
    model = session.get(Model, model_id, with_for_update=for_update or None, populate_existing=for_update)
    if model is None or (project_id is not None and model.project_id != project_id):
        raise NotFound(MODEL_NOT_FOUND)
    return model


def get_visible(session: Session, project_id: str, model_id: uuid.UUID) -> Model:
    """The version if the project owns it or it is shared in the public catalog; else ``NotFound``."""
    model = session.get(Model, model_id)
    if model is None or (model.project_id != project_id and not model.is_shared):
        raise NotFound(MODEL_NOT_FOUND)
    return model
