"""Share / unshare a model into the public catalog, and the operator's role assignment."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from xerotier.db.models import Model
from xerotier.domain.lifecycle import SERVABLE
from xerotier.domain.tiers import CatalogRole
from xerotier.errors import InvalidInput, NotFound
from xerotier.runtime import Runtime

#: What share answers for a model that does not exist *or belongs to another project* (one
#: message for both, so a foreign model is indistinguishable from a missing one).
SHARE_NOT_FOUND = "Model not found or not owned by this project"
UNSHARE_NOT_FOUND = "Model not found or not shared"
_SERVABLE = sorted(s.value for s in SERVABLE)


def share_model(runtime: Runtime, project_id: str, model_id: uuid.UUID) -> Model:
    """Publish the model's manifest in the catalog with role ``deployable`` (idempotent)."""
    now = datetime.now(UTC)
    with runtime.unit_of_work() as session:
        shared = session.execute(
            update(Model)
            .where(Model.id == model_id, Model.project_id == project_id, Model.status.in_(_SERVABLE))
            .values(
                is_shared=True,
                catalog_role=case((Model.is_shared, Model.catalog_role), else_=CatalogRole.DEPLOYABLE.value),
                shared_at=func.coalesce(Model.shared_at, now),
                updated_at=now,
            )
            .returning(Model.id)
            .execution_options(synchronize_session=False)
        ).first()
        if shared is None:
            raise InvalidInput(_share_refusal(session, project_id, model_id))
        return session.get(Model, model_id, populate_existing=True)  # type: ignore[return-value]


def _share_refusal(session: Session, project_id: str, model_id: uuid.UUID) -> str:
    status = session.scalar(select(Model.status).where(Model.id == model_id, Model.project_id == project_id))
    if status is None:
        return SHARE_NOT_FOUND
    return f"Model is {status}; only a model in ready or active status can be shared"


def unshare_model(runtime: Runtime, project_id: str, model_id: uuid.UUID) -> Model:
    """Remove the catalog footprint; endpoints already provisioned are left alone."""
    now = datetime.now(UTC)
    with runtime.unit_of_work() as session:
        done = session.execute(
            update(Model)
            .where(Model.id == model_id, Model.project_id == project_id, Model.is_shared)
            .values(
                is_shared=False,
                catalog_role=None,
                featured=False,
                deployment_count=0,
                shared_at=None,
                updated_at=now,
            )
            .returning(Model.id)
            .execution_options(synchronize_session=False)
        ).first()
        if done is None:
            raise NotFound(UNSHARE_NOT_FOUND)
        return session.get(Model, model_id, populate_existing=True)  # type: ignore[return-value]


def set_catalog_role(
    runtime: Runtime, model_id: uuid.UUID, role: CatalogRole, featured: bool | None = None
) -> Model:
    """Operator only (``xerotier catalog set-role``): no automatic path promotes to ``shared``."""
    with runtime.unit_of_work() as session:
        model = session.scalar(select(Model).where(Model.id == model_id).with_for_update())
        if model is None or not model.is_shared:
            raise NotFound(UNSHARE_NOT_FOUND)
        model.catalog_role = role.value
        if featured is not None:
            model.featured = featured
        model.updated_at = datetime.now(UTC)
        session.flush()
        return model
