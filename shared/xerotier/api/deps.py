"""FastAPI dependencies shared by every router: the runtime, the caller's project, path ids."""

from __future__ import annotations

import asyncio
import functools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import update

from xerotier import auth
from xerotier.api.pending_auth import KnownKeys, can_hold, hold
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
    has an ``AsyncReader`` (PostgreSQL), else in the thread pool. On PostgreSQL a ``GET`` with a key
    verified before does not wait for it: the route runs beside the lookup and its answer is held
    until the key passes (``xerotier.api.pending_auth``). The last-used time is written at most
    once a minute per key."""
    header = request.headers.get("authorization", "")
    scheme, _, presented = header.partition(" ")
    parsed = auth.parse_key(presented.strip()) if scheme.lower() == "bearer" else None
    if parsed is None:
        raise AuthenticationRequired()
    reader, known = async_reader(request), known_keys(request)
    if reader is None or known is None:
        caller = await run_in_threadpool(_authenticate, get_rt(request), parsed)
    elif can_hold(request.scope, request.method) and (remembered := known.get(memo_key(parsed))) is not None:
        hold(request.scope, asyncio.ensure_future(_verify(reader, known, parsed)))
        caller = remembered
    else:
        caller = await _verify(reader, known, parsed)
    path_project = request.path_params.get("project_id")
    if path_project is not None and path_project not in (caller.project_id, caller.project_slug):
        raise NotFound("Project not found")
    return caller


def memo_key(parsed: auth.ParsedKey) -> str:
    """What a verified key is remembered by: the whole key (its lookup and its secret's keyed hash),
    so only the very key verified before skips the wait. A wrong secret behind a known lookup waits
    for its verification before any route runs: its refusal takes no longer for a larger project."""
    return f"{parsed.lookup}:{auth.hash_secret(parsed.secret)}"


def known_keys(request: Request) -> KnownKeys[Caller] | None:
    """Who the keys verified before speak for (PostgreSQL apps), or None."""
    return getattr(request.app.state, "known_keys", None)


async def _verify(reader: AsyncReader, known: KnownKeys[Caller], parsed: auth.ParsedKey) -> Caller:
    """The key's caller, checked in the database now; remembered for the next requests."""
    found = verify(parsed, await reader.fetch_one(_LOOKUP_SQL(), {"lookup": parsed.lookup}))
    if found is None:
        known.forget(memo_key(parsed))
        raise AuthenticationRequired()
    now = datetime.now(UTC)
    if _touch_due(found, now):
        await reader.execute(_TOUCH_SQL, (now, found.key_id))
    caller = Caller(found.project_id, found.project_slug, found.key_id)
    known.remember(memo_key(parsed), caller)
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
