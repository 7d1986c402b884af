"""The catalog's reaction to an endpoint event: recount deployments, demote.

The ``active`` status is not driven here: the loading service owns it (a model is active once an
agent acknowledges a load, and back to ready when no load serves it).

Everything is recomputed from the database under the model name's row locks (never incremented),
so duplicate, late or concurrent deliveries converge: the task that runs after the last endpoint
change commits sees every change, whatever order the deliveries arrive in.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xerotier.catalog.endpoints.handlers import lock_model_name, resolve
from xerotier.db.models import Endpoint
from xerotier.domain.tiers import SELF_HOSTED, CatalogRole, demotion_due
from xerotier.runtime import Runtime


@dataclass(frozen=True)
class Recount:
    live_endpoints: int
    shared_tier_endpoints: int
    demoted: int
    serving_model_id: str | None


def _count(session: Session, project_id: str, name: str, *, shared_tiers_only: bool) -> int:
    query = (
        select(func.count())
        .select_from(Endpoint)
        .where(
            Endpoint.model_project_id == project_id,
            Endpoint.model_name == name,
            Endpoint.deleted_at.is_(None),
        )
    )
    if shared_tiers_only:
        query = query.where(Endpoint.tier != SELF_HOSTED)
    return session.scalar(query) or 0


def endpoint_changed(runtime: Runtime, model_project_id: str, model_name: str) -> Recount:
    with runtime.unit_of_work() as session:
        versions = lock_model_name(session, model_project_id, model_name)
        live = _count(session, model_project_id, model_name, shared_tiers_only=False)
        shared = _count(session, model_project_id, model_name, shared_tiers_only=True)
        demoted = 0
        for model in versions:
            if model.is_shared:
                model.deployment_count = live
            if demotion_due(model.catalog_role, shared):
                model.catalog_role = CatalogRole.DEPLOYABLE.value
                demoted += 1
        session.flush()
        target = resolve(session, model_project_id, model_name)
        return Recount(live, shared, demoted, str(target.id) if target and live else None)
