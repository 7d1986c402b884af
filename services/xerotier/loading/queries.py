"""Read use cases of the loading service: dry-run plans, backends with their loads, endpoint resolution."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from xerotier.db.backends import is_alive
from xerotier.db.lookups import get_visible
from xerotier.db.models import Backend, Endpoint, Load, Model
from xerotier.domain.clamp import clamp_max_tokens
from xerotier.domain.inventory import Inventory
from xerotier.domain.rollout import is_serving
from xerotier.errors import Conflict, NotFound
from xerotier.loading import statuses as st
from xerotier.loading.handlers import plan_options, resolve_model
from xerotier.loading.inputs import shape_of
from xerotier.loading.planner import PlanOptions, plan_load
from xerotier.runtime import Runtime

_visible_model = get_visible


def plan_for_model(
    runtime: Runtime,
    project_id: str,
    model_id: uuid.UUID,
    *,
    backend_id: str | None = None,
    inventory: Inventory | None = None,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The plan ``model_id`` would get on a registered backend or on a dry-run inventory."""
    with runtime.session_factory() as session:
        model = _visible_model(session, project_id, model_id)
        shape = shape_of(session, runtime.blobs, model)
        if backend_id is not None:
            backend = session.get(Backend, backend_id)
            if backend is None:
                raise NotFound("Backend not found")
            inventory, options = Inventory.from_json(backend.inventory), plan_options(backend.options)
            target: dict[str, Any] = {"backendId": backend.id, "inventory": backend.inventory}
        else:
            assert inventory is not None
            options, target = PlanOptions(), {"inventory": inventory.to_json()}
    options = replace(options, **{k: v for k, v in (overrides or {}).items() if v is not None})
    plan = plan_load(shape, inventory, options)
    return {
        "modelId": str(model_id),
        "name": model.name,
        "version": model.version,
        "target": target,
    } | plan.to_json()


def _load_json(load: Load) -> dict[str, Any]:
    plan = load.plan or {}
    return {
        "id": str(load.id),
        "endpointId": str(load.endpoint_id),
        "modelId": str(load.model_id),
        "status": load.status,
        "appliedQuantization": plan.get("appliedQuantization"),
        "quantizationReason": plan.get("quantizationReason"),
        "contextLength": plan.get("contextLength"),
        "maxSequences": plan.get("maxSequences"),
        "plan": plan,
        "ack": load.ack,
        "createdAt": load.created_at.isoformat(),
        "ackedAt": load.acked_at.isoformat() if load.acked_at else None,
    }


def backend_json(
    backend: Backend, loads: list[Load], dead_after: timedelta, own: set[uuid.UUID]
) -> dict[str, Any]:
    """A backend with its inventory and live loads (details only for the caller's endpoints)."""
    mine = [_load_json(load) for load in loads if load.endpoint_id in own]
    return {
        "id": backend.id,
        "queue": backend.queue,
        "alive": is_alive(backend, dead_after),
        "inventorySource": backend.inventory_source,
        "inventory": backend.inventory,
        "options": backend.options,
        "registeredAt": backend.registered_at.isoformat(),
        "heartbeatAt": backend.heartbeat_at.isoformat(),
        "loadCount": len(loads),
        "loads": mine,
    }


def list_backends(runtime: Runtime, project_id: str, backend_id: str | None = None) -> list[dict[str, Any]]:
    dead_after = timedelta(seconds=runtime.settings.backend_dead_after_seconds)
    with runtime.session_factory() as session:
        query = select(Backend).order_by(Backend.id)
        if backend_id is not None:
            query = query.where(Backend.id == backend_id)
        backends = list(session.scalars(query))
        if backend_id is not None and not backends:
            raise NotFound("Backend not found")
        loads = list(
            session.scalars(select(Load).where(Load.status.in_(st.LIVE_LOADS)).order_by(Load.created_at))
        )
        own = set(session.scalars(select(Endpoint.id).where(Endpoint.project_id == project_id)))
    by_backend: dict[str, list[Load]] = {}
    for load in loads:
        by_backend.setdefault(load.backend_id or "", []).append(load)
    return [backend_json(b, by_backend.get(b.id, []), dead_after, own) for b in backends]


def resolve_endpoint(
    runtime: Runtime, project_id: str, endpoint_id: uuid.UUID, prompt_tokens: int, max_tokens: int | None
) -> dict[str, Any]:
    """The version an endpoint serves now and ``max_tokens`` clamped to its loaded context.

    During a roll-out that is still the old version: the endpoint switches only when the new
    version's load is acknowledged.
    """
    with runtime.session_factory() as session:
        endpoint = session.get(Endpoint, endpoint_id)
        if endpoint is None or endpoint.project_id != project_id or endpoint.deleted_at is not None:
            raise NotFound("Endpoint not found")
        load = session.get(Load, endpoint.serving_load_id) if endpoint.serving_load_id else None
        model = session.get(Model, load.model_id) if load is not None else None
        if load is None or model is None or load.status != st.LOAD_LOADED or not is_serving(endpoint.status):
            wanted = resolve_model(session, endpoint)
            if wanted is None:
                raise Conflict("The endpoint's model has no ready version")
            raise Conflict(
                f"The endpoint is not serving {wanted.name} {wanted.version} yet (status {endpoint.status})"
            )
        context = int((load.plan or {}).get("contextLength") or 0)
    allowed, clamped = clamp_max_tokens(context, prompt_tokens, max_tokens)
    return {
        "endpointId": str(endpoint_id),
        "modelId": str(model.id),
        "modelName": model.name,
        "version": model.version,
        "backendId": load.backend_id,
        "contextLength": context,
        "promptTokens": prompt_tokens,
        "maxTokens": allowed,
        "clamped": clamped,
        "resolvedAt": datetime.now(UTC).isoformat(),
    }
