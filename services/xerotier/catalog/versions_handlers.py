"""Version use cases: list, create (optionally reusing the parent's blobs), promotion history, diff."""

from __future__ import annotations

import functools
import operator
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy import Row, Select, Text, and_, bindparam, cast, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xerotier.api.serialize import model_json, model_json_column
from xerotier.catalog import handlers
from xerotier.catalog.promotion import find_version, owned
from xerotier.catalog.version_diff import Files, diff_versions
from xerotier.db import blob_refs
from xerotier.db.async_reads import AsyncReader, compile_for_psycopg, compile_insert
from xerotier.db.latest import lock_name_of, name_and_lock_statement
from xerotier.db.models import LifecycleEventRow, Model, ModelFile
from xerotier.db.reads import autocommit_session
from xerotier.db.transitions import apply_transition
from xerotier.db.versioning_models import PromotionEvent
from xerotier.domain.lifecycle import LifecycleEvent, ModelStatus
from xerotier.domain.semver import Version
from xerotier.domain.versioning import newest_first
from xerotier.errors import Conflict, InvalidInput, NotFound
from xerotier.queue import names, outbox
from xerotier.runtime import Runtime

MAX_NOTES = 10_000


@dataclass(frozen=True)
class NewVersion:
    version: str
    version_notes: str | None = None
    copy_files: bool = False


def list_versions(runtime: Runtime, project_id: str, model_id: uuid.UUID) -> list[Model]:
    """Every version of the model's name, highest precedence first."""
    with autocommit_session(runtime.engine) as session:
        anchor = owned(session, model_id, project_id)
        rows = session.scalars(
            select(Model).where(Model.project_id == project_id, Model.name == anchor.name).order_by(Model.id)
        )
        return newest_first(rows, lambda m: m.version)


async def list_versions_rendered(db: AsyncReader, project_id: str, model_id: uuid.UUID) -> list[str]:
    """``list_versions`` on the event loop (PostgreSQL): one statement, each version rendered as
    JSON by the database, ordered by precedence here."""
    rows = await db.fetch_all(_VERSIONS_OF_ANCHOR_SQL(), {"project_id": project_id, "model_id": model_id})
    if not rows:  # the anchor is one of them: none means no such model in this project
        raise NotFound("Model not found")
    return [rendered for rendered, _ in newest_first(rows, operator.itemgetter(1))]


def _versions_of_anchor() -> Select:
    """(model JSON, version) of every version of ``:model_id``'s name in ``:project_id``."""
    anchor = _MODELS.alias("anchor")
    anchor_name = select(anchor.c.name).where(
        anchor.c.id == bindparam("model_id"), anchor.c.project_id == bindparam("project_id")
    )
    return (
        select(model_json_column(), _MODELS.c.version)
        .where(
            _MODELS.c.project_id == bindparam("project_id"), _MODELS.c.name == anchor_name.scalar_subquery()
        )
        .order_by(_MODELS.c.id)  # ties of precedence (unparsable versions only) in a stable order
    )


def _duplicate(name: str, version: str) -> Conflict:
    return Conflict(f"Model '{name}' version {version} already exists")


def create_version(runtime: Runtime, project_id: str, model_id: uuid.UUID, spec: NewVersion) -> Row[Any]:
    """A new version of the model's name whose parent is the latest; ``uploading``, or ``validating``
    at once when it reuses the parent's files (``copy_files``: blob references, no bytes copied).
    Returns the new row of the models table (the attributes of ``Model``)."""
    _check(spec)
    now = datetime.now(UTC)
    name = "?"
    try:
        with runtime.unit_of_work() as session:
            name = lock_name_of(session, project_id, model_id)
            connection = session.connection()  # Core statements: no unit-of-work flush on this hot path
            values = {"project_id": project_id, "name": name, "model_id": model_id}
            parent = _parent_of(connection.execute(_LATEST_OR_ANCHOR, values).all(), model_id)
            if parent is None:  # no latest (never expected): the highest precedence
                parent = newest_first(connection.execute(_VERSIONS_OF_NAME, values).all(), _version_of)[0]
            version = _version_values(runtime, project_id, name, parent, spec, now)
            # a duplicate precedence fails here, on uq_models_version_precedence
            model = connection.execute(_INSERT_VERSION, version).one()
            connection.execute(_INSERT_EVENT, _event_values(version, parent, spec))
            if spec.copy_files:
                _reuse_files(runtime, session, parent, model.id)
    except IntegrityError:
        raise _duplicate(name, spec.version) from None
    if not spec.copy_files:
        return model
    return handlers.get_model(runtime, project_id, model.id)  # as validating now


async def create_version_rendered(
    runtime: Runtime, db: AsyncReader, project_id: str, model_id: uuid.UUID, spec: NewVersion
) -> str:
    """``create_version`` of new files on the event loop (PostgreSQL): the same statements in one
    pipelined transaction (the lock travels with ``BEGIN``, both inserts with ``COMMIT``: three
    round trips), the new version rendered as JSON text by the database (``model_json_column``)."""
    if spec.copy_files:
        raise ValueError("copying files runs in create_version")
    _check(spec)
    now = datetime.now(UTC)
    name = "?"
    try:
        async with db.transaction() as connection:
            locked = await (
                await connection.execute(_LOCK_NAME_SQL(), {"project_id": project_id, "model_id": model_id})
            ).fetchone()
            if locked is None:
                raise NotFound("Model not found")
            name = locked[0]
            values = {"project_id": project_id, "name": name, "model_id": model_id}
            rows = connection.cursor(row_factory=namedtuple_row)
            parent = _parent_of(
                await (await rows.execute(_LATEST_OR_ANCHOR_SQL(), values)).fetchall(), model_id
            )
            if parent is None:
                siblings = await (await rows.execute(_VERSIONS_OF_NAME_SQL(), values)).fetchall()
                parent = newest_first(siblings, _version_of)[0]
            version = _version_values(runtime, project_id, name, parent, spec, now)
            insert_sql, defaults = _INSERT_VERSION_RENDERED()
            created = await connection.execute(insert_sql, {**defaults, **version})
            event_sql, event_defaults = _INSERT_EVENT_SQL()
            await connection.execute(event_sql, {**event_defaults, **_event_values(version, parent, spec)})
        row = await created.fetchone()
    except psycopg.errors.UniqueViolation:
        raise _duplicate(name, spec.version) from None
    assert row is not None
    return row[0]


def _check(spec: NewVersion) -> None:
    Version.parse(spec.version)
    if spec.version_notes is not None and len(spec.version_notes) > MAX_NOTES:
        raise InvalidInput(f"versionNotes is longer than {MAX_NOTES} characters")


def _parent_of(rows: Sequence[Any], model_id: uuid.UUID) -> Any | None:
    """Of the name's latest version and the anchor ``model_id`` (read under the name's lock): the
    latest; None when the name has no latest. ``NotFound`` if the anchor was deleted while we
    waited. Two rows at most, however many versions the name has."""
    if all(r.id != model_id for r in rows):
        raise NotFound("Model not found")
    return next((r for r in rows if r.is_latest), None)


def _version_of(row: Any) -> str:
    return row.version


def _version_values(
    runtime: Runtime, project_id: str, name: str, parent: Any, spec: NewVersion, now: datetime
) -> dict[str, Any]:
    """The new version's row (the columns left out take their defaults)."""
    return {
        "id": uuid.uuid4(),
        "project_id": project_id,
        "name": name,
        "version": spec.version,
        "parent_version_id": parent.id,
        "is_latest": False,
        "version_notes": spec.version_notes,
        "format": parent.format if spec.copy_files else None,
        "workload_type": parent.workload_type,
        "status": ModelStatus.UPLOADING.value,
        "status_changed_at": now,
        "deadline_at": now + timedelta(seconds=runtime.settings.upload_deadline_seconds),
        "created_at": now,
        "updated_at": now,
    }


def _event_values(version: dict[str, Any], parent: Any, spec: NewVersion) -> dict[str, Any]:
    """The lifecycle event that records the creation."""
    return {
        "model_id": version["id"],
        "event": "create",
        "from_status": None,
        "to_status": version["status"],
        "reason": f"version {spec.version} created from {parent.version}",
        "created_at": version["created_at"],
    }


_MODELS = Model.__table__
_EVENTS = LifecycleEventRow.__table__
# Built once: creating a version is a hot path (the unset columns take their Python defaults).
_INSERT_VERSION = insert(_MODELS).returning(*_MODELS.c)
_INSERT_EVENT = insert(_EVENTS)
_SAME_NAME = (_MODELS.c.project_id == bindparam("project_id"), _MODELS.c.name == bindparam("name"))
_LATEST_OR_ANCHOR = select(_MODELS).where(
    *_SAME_NAME, or_(_MODELS.c.is_latest, _MODELS.c.id == bindparam("model_id"))
)
_VERSIONS_OF_NAME = select(_MODELS).where(*_SAME_NAME)
# The same statements as psycopg text, for the event loop (compiled on first use).
_LOCK_NAME_SQL = functools.cache(lambda: compile_for_psycopg(name_and_lock_statement(postgres=True)))
_VERSIONS_OF_ANCHOR_SQL = functools.cache(lambda: compile_for_psycopg(_versions_of_anchor()))
_LATEST_OR_ANCHOR_SQL = functools.cache(lambda: compile_for_psycopg(_LATEST_OR_ANCHOR))
_VERSIONS_OF_NAME_SQL = functools.cache(lambda: compile_for_psycopg(_VERSIONS_OF_NAME))
_VERSION_KEYS = ("id", "project_id", "name", "version", "parent_version_id", "is_latest", "version_notes",
                 "format", "workload_type", "status", "status_changed_at", "deadline_at", "created_at",
                 "updated_at")  # fmt: skip  # the keys of _version_values
_INSERT_VERSION_RENDERED = functools.cache(
    lambda: compile_insert(_MODELS, _VERSION_KEYS, returning=model_json_column())
)
_INSERT_EVENT_SQL = functools.cache(
    lambda: compile_insert(_EVENTS, ("model_id", "event", "from_status", "to_status", "reason", "created_at"))
)


def _reuse_files(runtime: Runtime, session: Session, parent: Row[Any], model_id: uuid.UUID) -> None:
    # blob rows are locked in digest order, as everywhere: concurrent copies and deletes never deadlock
    files = list(
        session.scalars(select(ModelFile).where(ModelFile.model_id == parent.id).order_by(ModelFile.sha256))
    )
    if not files:
        raise Conflict(
            f"Version {parent.version} has no files to copy; upload files to the new version instead"
        )
    now = datetime.now(UTC)
    for row in files:
        blob_refs.add_ref(session, row.sha256, row.size_bytes)
        session.add(
            ModelFile(
                model_id=model_id, path=row.path, size_bytes=row.size_bytes, sha256=row.sha256, created_at=now
            )
        )
    session.flush()
    apply_transition(
        session,
        model_id,
        ModelStatus.UPLOADING,
        LifecycleEvent.COMPLETE,
        reason=f"files reused from version {parent.version}",
        deadline=timedelta(seconds=runtime.settings.validation_deadline_seconds),
        values={"format": parent.format, "size_bytes": sum(f.size_bytes for f in files)},
        then=lambda s: outbox.enqueue(s, names.VALIDATE, model_id=str(model_id)),
    )


def history(runtime: Runtime, project_id: str, model_id: uuid.UUID, limit: int = 100) -> list[PromotionEvent]:
    """Changes of the latest pointer of the model's name, newest first."""
    with runtime.session_factory() as session:
        anchor = owned(session, model_id, project_id)
        return list(
            session.scalars(
                select(PromotionEvent)
                .where(PromotionEvent.project_id == project_id, PromotionEvent.name == anchor.name)
                .order_by(PromotionEvent.id.desc())
                .limit(limit)
            )
        )


def _digests(session: Session, model_id: uuid.UUID) -> dict[str, tuple[str, bool]]:
    """path → (sha256, whether a tensor index is stored), without reading any index."""
    indexed = and_(ModelFile.header.is_not(None), cast(ModelFile.header, Text) != "null")
    rows = session.execute(
        select(ModelFile.path, ModelFile.sha256, indexed).where(ModelFile.model_id == model_id)
    )
    return {path: (sha, bool(has)) for path, sha, has in rows}


def _files(
    session: Session, model_id: uuid.UUID, digests: dict[str, tuple[str, bool]], skip: set[str]
) -> Files:
    """The tensor indexes of the files whose content is not in ``skip``: a blob present in both
    versions holds the same tensors on both sides, so its index (up to 100 MB) is never read."""
    wanted = [path for path, (sha, has) in digests.items() if has and sha not in skip]
    headers: dict[str, Any] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        headers.update(
            session.execute(
                select(ModelFile.path, ModelFile.header).where(
                    ModelFile.model_id == model_id, ModelFile.path.in_(chunk)
                )
            ).all()
        )
    return {
        path: (sha, headers.get(path) if sha not in skip else ({} if has else None))
        for path, (sha, has) in digests.items()
    }


def diff(
    runtime: Runtime, project_id: str, model_id: uuid.UUID, from_version: str, to_version: str
) -> dict[str, Any]:
    """What changed from ``from_version`` to ``to_version`` of the model's name."""
    with runtime.session_factory() as session:
        anchor = owned(session, model_id, project_id)
        old = find_version(session, project_id, anchor.name, from_version)
        new = find_version(session, project_id, anchor.name, to_version)
        old_digests, new_digests = _digests(session, old.id), _digests(session, new.id)
        shared = {sha for sha, _ in old_digests.values()} & {sha for sha, _ in new_digests.values()}
        result = diff_versions(
            model_json(old),
            _files(session, old.id, old_digests, shared),
            model_json(new),
            _files(session, new.id, new_digests, shared),
        )
        result["fromVersionId"], result["toVersionId"] = str(old.id), str(new.id)
        return result
