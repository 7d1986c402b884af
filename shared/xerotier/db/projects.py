"""Projects and their API keys."""

from __future__ import annotations

import secrets
import string
from datetime import UTC, datetime

from sqlalchemy import select
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


def authenticate(session: Session, presented: str) -> tuple[Project, ApiKey] | None:
    """The project and key behind ``presented``, or None (unknown, revoked, tampered)."""
    parsed = auth.parse_key(presented)
    if parsed is None:
        return None
    row = session.execute(
        select(ApiKey, Project)
        .join(Project, Project.id == ApiKey.project_id)
        .where(ApiKey.lookup == parsed.lookup)
    ).first()
    if row is None:
        return None
    key, project = row
    if key.revoked_at is not None or project.slug != parsed.project_slug:
        return None
    if not auth.secret_matches(parsed.secret, key.secret_hash):
        return None
    return project, key
