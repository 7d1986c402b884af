"""FastAPI dependencies shared by every router: the runtime, the caller's project, path ids."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import update

from xerotier import auth
from xerotier.db.models import ApiKey
from xerotier.db.projects import KeyMatch, find_key
from xerotier.db.reads import autocommit_connection
from xerotier.errors import AuthenticationRequired, InvalidInput, NotFound
from xerotier.runtime import Runtime

LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class Caller:
    project_id: str
    project_slug: str
    key_id: uuid.UUID


def get_rt(request: Request) -> Runtime:
    return request.app.state.runtime


async def get_caller(request: Request) -> Caller:
    """Authenticate the bearer key; on ``/{projectId}/v1/…`` the path must name the key's project.

    One indexed lookup of the key on every request (a revoked key fails on the very next one), read
    outside a transaction in the thread pool; the last-used time is written at most once a minute."""
    header = request.headers.get("authorization", "")
    scheme, _, presented = header.partition(" ")
    parsed = auth.parse_key(presented.strip()) if scheme.lower() == "bearer" else None
    if parsed is None:
        raise AuthenticationRequired()
    caller = await run_in_threadpool(_authenticate, get_rt(request), parsed)
    path_project = request.path_params.get("project_id")
    if path_project is not None and path_project not in (caller.project_id, caller.project_slug):
        raise NotFound("Project not found")
    return caller


def _touch_due(found: KeyMatch, now: datetime) -> bool:
    return found.last_used_at is None or now - found.last_used_at > LAST_USED_RESOLUTION


def _authenticate(runtime: Runtime, parsed: auth.ParsedKey) -> Caller:
    with autocommit_connection(runtime.engine) as connection:
        found = find_key(connection, parsed)
    if found is None:
        raise AuthenticationRequired()
    now = datetime.now(UTC)
    if _touch_due(found, now):
        with runtime.session_factory() as session:
            session.execute(update(ApiKey).where(ApiKey.id == found.key_id).values(last_used_at=now))
            session.commit()
    return Caller(found.project_id, found.project_slug, found.key_id)


def parse_model_id(model_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(model_id)
    except (ValueError, AttributeError, TypeError):
        raise InvalidInput("Invalid model ID") from None
