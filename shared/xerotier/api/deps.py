"""FastAPI dependencies shared by every router: the runtime, the caller's project, path ids."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import Request
from sqlalchemy import update

from xerotier.db.models import ApiKey
from xerotier.db.projects import authenticate
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


def get_caller(request: Request) -> Caller:
    """Authenticate the bearer key; on ``/{projectId}/v1/…`` the path must name the key's project."""
    header = request.headers.get("authorization", "")
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer" or not presented:
        raise AuthenticationRequired()
    runtime = get_rt(request)
    # The hot path is one indexed lookup (Core, no ORM), read outside a transaction; the last-used
    # time is written at most once a minute per key, in its own short transaction.
    with autocommit_connection(runtime.engine) as connection:
        found = authenticate(connection, presented.strip())
    if found is None:
        raise AuthenticationRequired()
    now = datetime.now(UTC)
    last = found.last_used_at
    if last is None or now - last > LAST_USED_RESOLUTION:
        with runtime.session_factory() as session:
            session.execute(update(ApiKey).where(ApiKey.id == found.key_id).values(last_used_at=now))
            session.commit()
    path_project = request.path_params.get("project_id")
    if path_project is not None and path_project not in (found.project_id, found.project_slug):
        raise NotFound("Project not found")
    return Caller(found.project_id, found.project_slug, found.key_id)


def parse_model_id(model_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(model_id)
    except (ValueError, AttributeError, TypeError):
        raise InvalidInput("Invalid model ID") from None
