"""Version use cases: list, create (optionally reusing the parent's blobs), promotion history, diff."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, Row, Select, Table, Text, and_, bindparam, cast, insert, or_, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xerotier.api.serialize import model_json
from xerotier.catalog.models import handlers
from xerotier.catalog.models.listing import MAX_LIMIT, decode_cursor, encode_cursor
from xerotier.catalog.models.management import Page
from xerotier.catalog.versions.diff import Files, diff_versions
from xerotier.catalog.versions.promotion import find_version, owned
from xerotier.db import blob_refs
from xerotier.db.latest import lock_name_of
from xerotier.db.models import LifecycleEventRow, Model, ModelFile
from xerotier.db.reads import autocommit_connection, autocommit_session
from xerotier.db.transitions import apply_transition
from xerotier.db.versioning_models import PendingPromotion, PromotionEvent
from xerotier.domain.lifecycle import LifecycleEvent, ModelStatus
from xerotier.domain.semver import Version
from xerotier.domain.versioning import newest_first, sort_key
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


def list_versions_page(
    runtime: Runtime, project_id: str, model_id: uuid.UUID, cursor: str | None, limit: int
) -> Page:
    """One keyset page of the model's versions, highest precedence first: an index range of
    ``ix_models_name_version_key`` (``version_key`` sorts bytewise by precedence), ``limit`` rows
    read whatever the number of versions; the cursor resumes after the last row."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}")
    values: dict[str, Any] = {"project_id": project_id, "limit": limit + 1}
    if cursor:
        values["after_key"], values["after_id"] = decode_cursor(cursor)
    with autocommit_connection(runtime.engine) as connection:
        name = connection.execute(_NAME_OF_ANCHOR, {"model_id": model_id, "project_id": project_id}).scalar()
        if name is None:
            raise NotFound("Model not found")
        rows = list(connection.execute(_page_statement(bool(cursor)), {**values, "name": name}))
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more and rows else None
    return Page(rows, encode_cursor(last.version_key or "", last.id) if last is not None else None)


@functools.cache
def _page_statement(after: bool) -> Select:
    c = _MODELS.c
    query = select(_MODELS).where(*_SAME_NAME)
    if after:
        position = tuple_(
            bindparam("after_key", type_=c.version_key.type), bindparam("after_id", type_=c.id.type)
        )
        query = query.where(tuple_(c.version_key, c.id) < position)
    return query.order_by(c.version_key.desc(), c.id.desc()).limit(bindparam("limit", type_=Integer))


def _duplicate(name: str, version: str) -> Conflict:
    return Conflict(f"Model '{name}' version {version} already exists")


def create_version(
    runtime: Runtime, project_id: str, model_id: uuid.UUID, spec: NewVersion
) -> Model | Row[Any]:
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
        "version_key": sort_key(spec.version),
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


_MODELS: Table = Model.__table__  # type: ignore[assignment]
_EVENTS: Table = LifecycleEventRow.__table__  # type: ignore[assignment]
# Built once: creating a version is a hot path (the unset columns take their Python defaults).
_INSERT_VERSION = insert(_MODELS).returning(*_MODELS.c)
_INSERT_EVENT = insert(_EVENTS)
_SAME_NAME = (_MODELS.c.project_id == bindparam("project_id"), _MODELS.c.name == bindparam("name"))
_LATEST_OR_ANCHOR = select(_MODELS).where(
    *_SAME_NAME, or_(_MODELS.c.is_latest, _MODELS.c.id == bindparam("model_id"))
)
_VERSIONS_OF_NAME = select(_MODELS).where(*_SAME_NAME)
_NAME_OF_ANCHOR = select(_MODELS.c.name).where(
    _MODELS.c.id == bindparam("model_id"), _MODELS.c.project_id == bindparam("project_id")
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


@dataclass(frozen=True)
class PendingInfo:
    """A promotion waiting for its version to become ready (at most one per name)."""

    version_id: uuid.UUID
    version: str
    status: str
    kind: str
    actor_key_id: uuid.UUID | None
    requested_at: datetime


def pending_promotion(runtime: Runtime, project_id: str, model_id: uuid.UUID) -> PendingInfo | None:
    """The model name's pending promotion (requested while its version was not ready yet), if any."""
    with runtime.session_factory() as session:
        anchor = owned(session, model_id, project_id)
        row = session.execute(
            select(PendingPromotion, Model.version, Model.status)
            .join(Model, Model.id == PendingPromotion.model_id)
            .where(PendingPromotion.project_id == project_id, PendingPromotion.name == anchor.name)
        ).first()
        if row is None:
            return None
        pending, version, status = row
        return PendingInfo(
            pending.model_id, version, status, pending.kind, pending.actor_key_id, pending.created_at
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
