"""The router's use cases: which engine answers a request to an endpoint, load on demand.

Read on the thread pool with an ordinary ``Session``; the forwarding itself is in ``forward``.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from xerotier.db.models import Endpoint, Load, Model, ModelFile
from xerotier.domain.rollout import EndpointStatus, is_serving
from xerotier.domain.tiers import check_tier_allows
from xerotier.errors import NotFound
from xerotier.queue import names, outbox
from xerotier.router.prompt import special_tokens_of, tokenizer_from_json
from xerotier.runtime import Runtime

ENDPOINT_NOT_FOUND = "Endpoint not found"
#: Endpoints a request wakes up: nothing is loading for them, so the request sends the load.
WAKE_STATUSES = (EndpointStatus.IDLE.value, EndpointStatus.FAILED.value, EndpointStatus.PENDING.value)


@dataclass(frozen=True)
class Route:
    endpoint_id: uuid.UUID
    load_id: uuid.UUID
    model_id: uuid.UUID
    model_name: str
    version: str
    engine_url: str
    served_name: str
    context_length: int
    default_temperature: float | None
    default_top_p: float | None
    chat_template: str | None
    tokenizer_sha256: str | None
    tokenizer_config_sha256: str | None


@dataclass(frozen=True)
class NotServing:
    status: str
    reason: str | None
    version: str | None  # the version it waits for


def _find_endpoint(session: Session, project_id: str, name: str) -> Endpoint:
    """``model`` of a request names an endpoint of the project: its id, or its model's name."""
    live = (Endpoint.project_id == project_id) & Endpoint.deleted_at.is_(None)
    try:
        by_id = uuid.UUID(name)
    except (ValueError, AttributeError, TypeError):
        by_id = None
    query = select(Endpoint).where(live)
    if by_id is not None:
        query = query.where(or_(Endpoint.id == by_id, Endpoint.model_name == name))
    else:
        query = query.where(Endpoint.model_name == name)
    endpoint = session.scalars(query.order_by(Endpoint.created_at.desc(), Endpoint.id).limit(1)).first()
    if endpoint is None:
        raise NotFound(f"The model '{name}' does not name an endpoint of this project")
    return endpoint


def _files(session: Session, model_id: uuid.UUID) -> dict[str, str]:
    rows = session.execute(
        select(ModelFile.path, ModelFile.sha256).where(
            ModelFile.model_id == model_id, ModelFile.path.in_(["tokenizer.json", "tokenizer_config.json"])
        )
    )
    return {path: sha for path, sha in rows}


_ROUTE_COLUMNS = (
    Endpoint.id,
    Endpoint.status,
    Endpoint.status_reason,
    Endpoint.tier,
    Endpoint.target_model_id,
    Load.id.label("load_id"),
    Load.status.label("load_status"),
    Load.plan,
    Load.ack,
    Model.id.label("model_id"),
    Model.project_id.label("model_project_id"),
    Model.name,
    Model.version,
    Model.is_shared,
    Model.catalog_role,
    Model.context_length,
    Model.default_temperature,
    Model.default_top_p,
    Model.chat_template,
)


def route(runtime: Runtime, project_id: str, name: str) -> Route | NotServing:
    """The engine that serves the endpoint now (the version it serves, not the one it rolls to).

    One statement for the endpoint, its serving load and that load's version, one for the
    tokenizer files: the per-request read of the router.
    """
    with runtime.session_factory() as session:
        endpoint = _find_endpoint(session, project_id, name)
        row = session.execute(
            select(*_ROUTE_COLUMNS)
            .select_from(Endpoint)
            .outerjoin(Load, Load.id == Endpoint.serving_load_id)
            .outerjoin(Model, Model.id == Load.model_id)
            .where(Endpoint.id == endpoint.id)
        ).one()
        engine = (row.ack or {}).get("engine") or {}
        if row.model_id is None or row.load_status != "loaded" or not is_serving(row.status):
            target = session.get(Model, row.target_model_id) if row.target_model_id else None
            return NotServing(row.status, row.status_reason, target.version if target else None)
        if row.model_project_id != project_id:  # a catalog model: its role may have changed since
            check_tier_allows(row.catalog_role if row.is_shared else None, row.tier)
        if not engine.get("serving") or not engine.get("url"):
            return NotServing(
                row.status,
                f"{row.name} {row.version} is loaded by a load check only ({engine.get('kind')}): "
                "no inference engine serves it; run the agent with an engine (see docs/serving.md)",
                None,
            )
        files = _files(session, row.model_id)
    plan_context = int((row.plan or {}).get("contextLength") or 0)
    contexts = [c for c in (plan_context, row.context_length) if c]
    return Route(
        endpoint_id=row.id,
        load_id=row.load_id,
        model_id=row.model_id,
        model_name=row.name,
        version=row.version,
        engine_url=str(engine["url"]),
        served_name=str(engine.get("servedName") or f"{row.name}:{row.version}"),
        context_length=min(contexts) if contexts else 0,
        default_temperature=row.default_temperature,
        default_top_p=row.default_top_p,
        chat_template=row.chat_template,
        tokenizer_sha256=files.get("tokenizer.json"),
        tokenizer_config_sha256=files.get("tokenizer_config.json"),
    )


def request_load(runtime: Runtime, project_id: str, name: str) -> None:
    """A request arrived for an endpoint nothing serves: send the load (idempotent in ``place``)."""
    with runtime.unit_of_work() as session:
        endpoint = _find_endpoint(session, project_id, name)
        if endpoint.status in WAKE_STATUSES:
            outbox.enqueue(session, names.LOADING_PLACE, endpoint_id=str(endpoint.id))


def wait_for_route(runtime: Runtime, project_id: str, name: str, timeout: float) -> Route | NotServing:
    """Send the load when nothing serves the endpoint, then wait for it up to ``timeout``."""
    found = route(runtime, project_id, name)
    if isinstance(found, Route):
        return found
    request_load(runtime, project_id, name)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.1)  # the load's acknowledgment is a row the loading worker writes
        found = route(runtime, project_id, name)
        if isinstance(found, Route):
            return found
        if found.status == EndpointStatus.FAILED.value and found.reason and "Load failed" in found.reason:
            return found
    return found


_TOUCHED: dict[uuid.UUID, float] = {}  # endpoint → when this process last recorded a request


def touch(runtime: Runtime, endpoint_id: uuid.UUID, every: float) -> None:
    """Record the endpoint's last request (at most once per ``every`` seconds: scale to zero).

    This process remembers when it last wrote, so most requests write nothing at all.
    """
    now_mono = time.monotonic()
    if now_mono - _TOUCHED.get(endpoint_id, float("-inf")) < every:
        return
    _TOUCHED[endpoint_id] = now_mono
    now = datetime.now(UTC)
    with runtime.unit_of_work() as session:
        session.execute(
            update(Endpoint)
            .where(
                Endpoint.id == endpoint_id,
                or_(
                    Endpoint.last_request_at.is_(None),
                    Endpoint.last_request_at < now - timedelta(seconds=every),
                ),
            )
            .values(last_request_at=now)
            .execution_options(synchronize_session=False)
        )


_TOKENIZERS: dict[tuple[str, str | None], tuple[Any, dict[str, str | None]]] = {}


def tokenizer_of(runtime: Runtime, found: Route) -> tuple[Any, dict[str, str | None]] | None:
    """The model's tokenizer (``tokenizer.json``) and its special tokens, or None without one.

    Kept per content digest: a version's tokenizer is read from the blob store once per process.
    """
    if found.tokenizer_sha256 is None:
        return None
    key = (found.tokenizer_sha256, found.tokenizer_config_sha256)
    cached = _TOKENIZERS.get(key)
    if cached is not None:
        return cached
    with runtime.blobs.open(found.tokenizer_sha256) as handle:
        text = handle.read().decode()
    config: dict[str, Any] | None = None
    if found.tokenizer_config_sha256 is not None:
        with runtime.blobs.open(found.tokenizer_config_sha256) as handle:
            try:
                config = json.loads(handle.read())
            except ValueError:
                config = None
    if len(_TOKENIZERS) >= 32:
        _TOKENIZERS.pop(next(iter(_TOKENIZERS)))
    entry = _TOKENIZERS[key] = (tokenizer_from_json(text), special_tokens_of(config))
    return entry
