"""Projects and their API keys."""

from __future__ import annotations

import secrets
import string
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from xerotier import auth
from xerotier.db.models import ApiKey, Project
from xerotier.errors import InvalidInput


def new_project_id() -> str:
    return "proj_" + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(12))


def get_or_create_project(session: Session, slug: str) -> Project:
    if not auth.valid_slug(slug):
        raise InvalidInput(
            f"Invalid project slug {slug!r}: use lower-case letters, digits and '-' (at most 64)"
        )
    project = session.scalar(select(Project).where(Project.slug == slug))
    if project is None:
        project = Project(id=new_project_id(), slug=slug, created_at=datetime.now(UTC))
        session.add(project)
        session.flush()
    return project


def create_key(session: Session, project: Project, name: str | None = None) -> tuple[ApiKey, str]:
    """A new key for ``project``: the row, and the full key (shown once, never stored)."""
    secret = auth.new_secret()
    row = ApiKey(
        project_id=project.id,
        lookup=secret[: auth.LOOKUP_LENGTH],
        secret_hash=auth.hash_secret(secret),
        name=name,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    session.flush()
    return row, auth.format_key(project.slug, secret)


@dataclass(frozen=True)
class KeyMatch:
    """Who a valid key speaks for: its project and the key itself."""

    project_id: str
    project_slug: str
    key_id: uuid.UUID
    last_used_at: datetime | None


_KEYS, _PROJECTS = ApiKey.__table__, Project.__table__
#: Built once: the lookup runs on every request, so it skips the ORM (no entities, no identity map).
LOOKUP = (
    select(
        _KEYS.c.id,
        _KEYS.c.secret_hash,
        _KEYS.c.revoked_at,
        _KEYS.c.last_used_at,
        _PROJECTS.c.id,
        _PROJECTS.c.slug,
    )
    .join(_PROJECTS, _PROJECTS.c.id == _KEYS.c.project_id)
    .where(_KEYS.c.lookup == bindparam("lookup"))
)


def authenticate(db: Connection | Session, presented: str) -> KeyMatch | None:
    """The project and key behind ``presented``, or None (unknown, revoked, tampered)."""
    parsed = auth.parse_key(presented)
    return find_key(db, parsed) if parsed is not None else None


def find_key(db: Connection | Session, parsed: auth.ParsedKey) -> KeyMatch | None:
    """The project and key behind an already parsed key, or None."""
    return verify(parsed, db.execute(LOOKUP, {"lookup": parsed.lookup}).first())


def verify(parsed: auth.ParsedKey, row: Sequence[Any] | None) -> KeyMatch | None:
    """Whether ``row`` (of ``LOOKUP``, found by the key's lookup prefix) is the presented key's."""
    if row is None:
        return None
    key_id, secret_hash, revoked_at, last_used_at, project_id, project_slug = row
    if revoked_at is not None or project_slug != parsed.project_slug:
        return None
    if not auth.secret_matches(parsed.secret, secret_hash):
        return None
    return KeyMatch(project_id, project_slug, key_id, last_used_at)
