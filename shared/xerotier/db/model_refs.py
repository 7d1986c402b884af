"""One resolver of model references (``xerotier.domain.model_ref``) to a version row, for every
route and command that takes a model; and the registered-model row of a name (get or create).

A foreign project's model resolves exactly like a missing one (``NotFound("Model not found")``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, Row, Table, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from xerotier.db.models import Model
from xerotier.db.registry_models import ModelAlias, RegisteredModel
from xerotier.domain.model_ref import ModelRef, commit_of, is_commit, parse_model_ref
from xerotier.domain.versioning import newest_first, precedence_core
from xerotier.errors import NotFound

_MODELS = Model.__table__
_ALIASES = ModelAlias.__table__
_REGISTERED = cast(Table, RegisteredModel.__table__)
_BY_ID = select(_MODELS).where(_MODELS.c.id == bindparam("id"), _MODELS.c.project_id == bindparam("project"))
_OF_NAME = select(_MODELS).where(
    _MODELS.c.project_id == bindparam("project"), _MODELS.c.name == bindparam("name")
)
_BY_ALIAS = (
    select(_MODELS)
    .join(_ALIASES, _ALIASES.c.model_id == _MODELS.c.id)
    .join(_REGISTERED, _REGISTERED.c.id == _ALIASES.c.registered_model_id)
    .where(
        _REGISTERED.c.project_id == bindparam("project"),
        _REGISTERED.c.name == bindparam("name"),
        _ALIASES.c.alias == bindparam("alias"),
        _MODELS.c.project_id == bindparam("project"),
    )
)


def not_found(ref: ModelRef) -> NotFound:
    """What a reference to an existing model that names no version says."""
    if ref.version_id is not None or ref.selector is None:
        return NotFound("Model not found")
    if ref.version is not None:
        return NotFound(f"Version {ref.selector} of model '{ref.name}' not found")
    return NotFound(f"Model '{ref.name}' has no version or alias '{ref.selector}'")


def find_ref(connection: Connection, project_id: str, ref: ModelRef) -> Row[Any] | None:
    """The version row ``ref`` names in the project, or None."""
    if ref.version_id is not None:
        return connection.execute(_BY_ID, {"id": ref.version_id, "project": project_id}).first()
    values = {"project": project_id, "name": ref.name}
    if ref.alias is not None and not is_commit(ref.alias):
        found = connection.execute(_BY_ALIAS, {**values, "alias": ref.alias}).first()
        if found is not None:
            return found
    versions = list(connection.execute(_OF_NAME, values))
    if not versions:
        return None
    if ref.wants_latest:
        latest = next((v for v in versions if v.is_latest), None)
        return latest or newest_first(versions, lambda v: v.version)[0]
    assert ref.selector is not None
    if ref.version is not None:
        core = precedence_core(ref.selector)
        exact = next((v for v in versions if v.version == ref.selector), None)
        return exact or next((v for v in versions if precedence_core(v.version) == core), None)
    if is_commit(ref.selector):
        return next((v for v in versions if commit_of(v.id) == ref.selector), None)
    return None


def resolve_row(connection: Connection, project_id: str, ref: ModelRef) -> Row[Any]:
    found = find_ref(connection, project_id, ref)
    if found is None:
        if ref.name is not None and connection.execute(_OF_NAME.limit(1), _name_of(project_id, ref)).first():
            raise not_found(ref)  # the model exists: say which version or alias it lacks
        raise NotFound("Model not found")
    return found


def _name_of(project_id: str, ref: ModelRef) -> dict[str, Any]:
    return {"project": project_id, "name": ref.name}


def resolve_text(connection: Connection, project_id: str, text: str) -> Row[Any]:
    """The version row the reference ``text`` (decoded) names, or ``NotFound``/``InvalidInput``."""
    return resolve_row(connection, project_id, parse_model_ref(text))


def ensure_registered(session: Session, project_id: str, name: str) -> uuid.UUID:
    """The id of the registered model ``(project_id, name)``, inserted if missing (race-free)."""
    values = {"id": uuid.uuid4(), "project_id": project_id, "name": name}
    now = datetime.now(UTC)
    values.update(created_at=now, updated_at=now)
    dialect = session.get_bind().dialect.name
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert_(_REGISTERED).values(**values).on_conflict_do_nothing(index_elements=["project_id", "name"])
    )
    found = session.execute(
        select(_REGISTERED.c.id).where(_REGISTERED.c.project_id == project_id, _REGISTERED.c.name == name)
    ).scalar_one()
    return found
