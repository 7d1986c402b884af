"""FastAPI dependencies shared by every router: the runtime, the caller's project, path ids."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import update

from xerotier import auth
from xerotier.db.async_reads import AsyncReader, compile_for_psycopg
from xerotier.db.models import ApiKey
from xerotier.db.projects import LOOKUP, KeyMatch, find_key, verify
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


def async_reader(request: Request) -> AsyncReader | None:
    """The app's reader on the event loop (PostgreSQL), or None (SQLite: use the thread pool)."""
    return getattr(request.app.state, "async_reader", None)


_LOOKUP_SQL = functools.cache(lambda: compile_for_psycopg(LOOKUP))
_TOUCH_SQL = "UPDATE api_keys SET last_used_at = %s WHERE id = %s"


async def get_caller(request: Request) -> Caller:
    """Authenticate the bearer key; on ``/{projectId}/v1/…`` the path must name the key's project.

    The hot path is one indexed lookup read outside a transaction: on the event loop when the app
    has an ``AsyncReader`` (PostgreSQL), else in the thread pool. The last-used time is written
    at most once a minute per key."""
    header = request.headers.get("authorization", "")
    scheme, _, presented = header.partition(" ")
    parsed = auth.parse_key(presented.strip()) if scheme.lower() == "bearer" else None
    if parsed is None:
        raise AuthenticationRequired()
    runtime = get_rt(request)
    reader = async_reader(request)
    if reader is not None:
        found = verify(parsed, await reader.fetch_one(_LOOKUP_SQL(), {"lookup": parsed.lookup}))
    else:
        found = await run_in_threadpool(_authenticate, runtime, parsed)
    if found is None:
        raise AuthenticationRequired()
    now = datetime.now(UTC)
    if found.last_used_at is None or now - found.last_used_at > LAST_USED_RESOLUTION:
        if reader is not None:
            await reader.execute(_TOUCH_SQL, (now, found.key_id))
        else:
            await run_in_threadpool(_touch, runtime, found.key_id, now)
    path_project = request.path_params.get("project_id")
    if path_project is not None and path_project not in (found.project_id, found.project_slug):
        raise NotFound("Project not found")
    return Caller(found.project_id, found.project_slug, found.key_id)


def _authenticate(runtime: Runtime, parsed: auth.ParsedKey) -> KeyMatch | None:
    with autocommit_connection(runtime.engine) as connection:
        return find_key(connection, parsed)


def _touch(runtime: Runtime, key_id: uuid.UUID, now: datetime) -> None:
    with runtime.session_factory() as session:
        session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))
        session.commit()


def parse_model_id(model_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(model_id)
    except (ValueError, AttributeError, TypeError):
        raise InvalidInput("Invalid model ID") from None
