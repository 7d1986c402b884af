"""Endpoints: create (tier-gated), list, get, delete; each resolves to its model name's latest version.

Create and delete write their events to the outbox in the same transaction: ``LOADING_PLACE`` /
``LOADING_UNLOAD`` for the loading service and ``CATALOG_ENDPOINT_CHANGED`` for the catalog
worker, which recounts deployments, drives the ``active`` status and demotes (``endpoint_counts``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from xerotier.db.models import Endpoint, Model
from xerotier.domain.lifecycle import SERVABLE
from xerotier.domain.rollout import is_serving
from xerotier.domain.tiers import check_tier_allows, parse_tier
from xerotier.errors import InvalidInput, NotFound
from xerotier.queue import names, outbox
from xerotier.runtime import Runtime

MODEL_NOT_FOUND = "Model not found"
ENDPOINT_NOT_FOUND = "Endpoint not found"
DELETED = "deleted"
_SERVABLE = sorted(s.value for s in SERVABLE)


@dataclass(frozen=True)
class ResolvedEndpoint:
    endpoint: Endpoint
    model: Model | None  # the version it follows: the latest servable (None: none left)
    serving: Model | None = None  # the version whose load answers requests now (set on an ack)
    rolling_to: Model | None = None  # the version being loaded to replace it (or that failed to)


def _resolved(session: Session, endpoint: Endpoint) -> ResolvedEndpoint:
    def get(model_id: uuid.UUID | None) -> Model | None:
        return session.get(Model, model_id) if model_id is not None else None

    serving = get(endpoint.serving_model_id) if is_serving(endpoint.status) else None
    return ResolvedEndpoint(
        endpoint,
        resolve(session, endpoint.model_project_id, endpoint.model_name),
        serving,
        get(endpoint.target_model_id),
    )


def lock_model_name(session: Session, project_id: str, name: str) -> list[Model]:
    """Every version of one model name, locked (PostgreSQL row locks; SQLite writers are serial).

    Endpoint creation and the catalog's recount both take these locks, so a demotion and a
    creation on a shared tier cannot interleave: one sees the other's committed result.
    """
    return list(
        session.scalars(
            select(Model)
            .where(Model.project_id == project_id, Model.name == name)
            .order_by(Model.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def resolve(session: Session, model_project_id: str, model_name: str) -> Model | None:
    """The version an endpoint on this name serves now: the latest, else the newest servable one."""
    return session.scalar(
        select(Model)
        .where(
            Model.project_id == model_project_id,
            Model.name == model_name,
            Model.status.in_(_SERVABLE),
        )
        .order_by(Model.is_latest.desc(), Model.created_at.desc(), Model.id.desc())
        .limit(1)
    )


def _events(session: Session, endpoint: Endpoint, loading_task: str) -> None:
    outbox.enqueue(session, loading_task, endpoint_id=str(endpoint.id))
    outbox.enqueue(
        session,
        names.CATALOG_ENDPOINT_CHANGED,
        model_project_id=endpoint.model_project_id,
        model_name=endpoint.model_name,
    )


def create_endpoint(runtime: Runtime, project_id: str, model_id: uuid.UUID, tier: str) -> ResolvedEndpoint:
    """An endpoint on the caller's own model or on a catalog model, if ``tier`` may select it."""
    parse_tier(tier)
    with runtime.unit_of_work() as session:
        visible = or_(Model.project_id == project_id, Model.is_shared)
        found = session.scalar(select(Model).where(Model.id == model_id, visible))
        if found is None:
            raise NotFound(MODEL_NOT_FOUND)
        lock_model_name(session, found.project_id, found.name)
        model = session.get(Model, model_id)
        if model is None or not (model.project_id == project_id or model.is_shared):
            raise NotFound(MODEL_NOT_FOUND)  # unshared or deleted while we waited for the lock
        check_tier_allows(model.catalog_role if model.is_shared else None, tier)
        if model.status not in _SERVABLE:
            raise InvalidInput(
                f"Model is {model.status}; an endpoint needs a model in ready or active status"
            )
        endpoint = Endpoint(
            project_id=project_id,
            model_project_id=model.project_id,
            model_name=model.name,
            tier=tier,
            resolved_model_id=model.id,
            status="pending",
            created_at=datetime.now(UTC),
        )
        session.add(endpoint)
        session.flush()
        _events(session, endpoint, names.LOADING_PLACE)
        return ResolvedEndpoint(endpoint, resolve(session, model.project_id, model.name))


def list_endpoints(runtime: Runtime, project_id: str, limit: int = 200) -> list[ResolvedEndpoint]:
    with runtime.session_factory() as session:
        rows = session.scalars(
            select(Endpoint)
            .where(Endpoint.project_id == project_id, Endpoint.deleted_at.is_(None))
            .order_by(Endpoint.created_at.desc(), Endpoint.id)
            .limit(limit)
        ).all()
        return [_resolved(session, e) for e in rows]


def get_endpoint(runtime: Runtime, project_id: str, endpoint_id: uuid.UUID) -> ResolvedEndpoint:
    with runtime.session_factory() as session:
        endpoint = session.get(Endpoint, endpoint_id)
        if endpoint is None or endpoint.project_id != project_id or endpoint.deleted_at is not None:
            raise NotFound(ENDPOINT_NOT_FOUND)
        return _resolved(session, endpoint)


def delete_endpoint(runtime: Runtime, project_id: str, endpoint_id: uuid.UUID) -> Endpoint:
    """Mark the endpoint deleted (once) and emit the unload and recount events."""
    now = datetime.now(UTC)
    with runtime.unit_of_work() as session:
        done = session.execute(
            update(Endpoint)
            .where(
                Endpoint.id == endpoint_id,
                Endpoint.project_id == project_id,
                Endpoint.deleted_at.is_(None),
            )
            .values(deleted_at=now, status=DELETED)
            .returning(Endpoint.id)
            .execution_options(synchronize_session=False)
        ).first()
        if done is None:
            raise NotFound(ENDPOINT_NOT_FOUND)
        endpoint = session.get(Endpoint, endpoint_id, populate_existing=True)
        assert endpoint is not None
        _events(session, endpoint, names.LOADING_UNLOAD)
        return endpoint


def parse_endpoint_id(endpoint_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(endpoint_id)
    except (ValueError, AttributeError, TypeError):
        raise InvalidInput("Invalid endpoint ID") from None
