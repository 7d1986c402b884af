"""Listing and revoking a project's API keys (minting lives in ``xerotier.db.projects``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from xerotier import auth
from xerotier.db.models import ApiKey, Project
from xerotier.errors import NotFound


@dataclass(frozen=True)
class KeyInfo:
    """What may be shown about a key: never the secret nor its hash."""

    id: str
    name: str | None
    prefix: str  # xero_<slug>_<first characters of the secret>…
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def _project(session: Session, slug: str) -> Project:
    project = session.scalar(select(Project).where(Project.slug == slug))
    if project is None:
        raise NotFound(f"Project '{slug}' not found")
    return project


def _info(project: Project, key: ApiKey) -> KeyInfo:
    return KeyInfo(
        id=str(key.id),
        name=key.name,
        prefix=auth.format_key(project.slug, key.lookup) + "…",
        created_at=key.created_at,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
    )


def list_keys(session: Session, slug: str) -> list[KeyInfo]:
    project = _project(session, slug)
    keys = session.scalars(
        select(ApiKey).where(ApiKey.project_id == project.id).order_by(ApiKey.created_at, ApiKey.id)
    )
    return [_info(project, key) for key in keys]


def revoke_key(session: Session, slug: str, ref: str) -> KeyInfo:
    """Revoke the project's key named by its id or its shown prefix; revoking twice is harmless."""
    project = _project(session, slug)
    query = select(ApiKey).where(ApiKey.project_id == project.id)
    try:
        query = query.where(ApiKey.id == uuid.UUID(ref))
    except ValueError:
        parsed = ref.rstrip("…").removeprefix(auth.format_key(project.slug, ""))
        if len(parsed) < auth.LOOKUP_LENGTH:
            raise NotFound(f"No key {ref!r} in project '{slug}'") from None
        query = query.where(ApiKey.lookup == parsed[: auth.LOOKUP_LENGTH])
    key = session.scalar(query.with_for_update())
    if key is None:
        raise NotFound(f"No key {ref!r} in project '{slug}'")
    if key.revoked_at is None:
        key.revoked_at = datetime.now(UTC)
        session.flush()
    return _info(project, key)
