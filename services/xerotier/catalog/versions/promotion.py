"""Promote and roll back versions: the latest pointer, pending promotions and the promotion history.

Every change of the latest pointer happens in a short transaction holding the name's lock
(``xerotier.db.latest.lock_name``): read the current latest, clear it, set the new one, append a
``PromotionEvent``. Concurrent promotes of one name queue on the lock instead of colliding on the
``uq_models_one_latest`` index; if the index still refuses (a writer that skipped the lock), the
caller gets a clean 409, never a 500.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, Row, Table, bindparam, delete, exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from xerotier.catalog.models.listing import like_prefix
from xerotier.db.latest import lock_name, lock_name_of, resolve_latest
from xerotier.db.lookups import get_owned
from xerotier.db.models import Endpoint, LifecycleEventRow, Model
from xerotier.db.versioning_models import PendingPromotion, PromotionEvent
from xerotier.domain.lifecycle import SERVABLE, ModelStatus
from xerotier.domain.semver import Version
from xerotier.domain.versioning import (
    PromotionKind,
    PromotionOutcome,
    is_older,
    precedence_core,
    promotion_outcome,
)
from xerotier.errors import Conflict, NotFound
from xerotier.queue import names, outbox
from xerotier.runtime import Runtime

_MODELS = cast(Table, Model.__table__)
# The pointer's statements, built once (Core: no ORM bookkeeping on the promote path).
_CLEAR_LATEST = (
    update(_MODELS)
    .where(
        _MODELS.c.project_id == bindparam("b_project"),
        _MODELS.c.name == bindparam("b_name"),
        _MODELS.c.is_latest,
    )
    .values(is_latest=False, updated_at=bindparam("b_now"))
    .returning(_MODELS.c.id, _MODELS.c.version)
)
_SET_LATEST = (
    update(_MODELS)
    .where(_MODELS.c.id == bindparam("b_target"))
    .values(is_latest=True, updated_at=bindparam("b_now"))
    .returning(*_MODELS.c)
)
_NAME_OF = select(_MODELS.c.name).where(_MODELS.c.id == bindparam("model_id"))
_VERSIONS_STARTING_WITH = select(_MODELS).where(
    _MODELS.c.project_id == bindparam("project_id"),
    _MODELS.c.name == bindparam("name"),
    _MODELS.c.version.like(bindparam("version_like"), escape="\\"),
)
_RECORD_EVENT = insert(cast(Table, PromotionEvent.__table__))
_DROP_PENDING = delete(cast(Table, PendingPromotion.__table__)).where(
    PendingPromotion.__table__.c.project_id == bindparam("b_project"),
    PendingPromotion.__table__.c.name == bindparam("b_name"),
)


@dataclass(frozen=True)
class PromotionResult:
    model: Model | Row[Any]  # the version as this transaction left it
    outcome: str  # promoted | unchanged | pending


def owned(session: Session, model_id: uuid.UUID, project_id: str) -> Model:
    """``get_owned`` (kept for the callers' argument order)."""
    return get_owned(session, project_id, model_id)


def find_version_row(connection: Connection, project_id: str, name: str, version: str) -> Row[Any]:
    """The version of ``name`` with the precedence of ``version`` (build metadata ignored), as a row
    of the models table."""
    Version.parse(version)
    core = precedence_core(version)
    values = {"project_id": project_id, "name": name, "version_like": like_prefix(core)}
    for row in connection.execute(_VERSIONS_STARTING_WITH, values):
        if precedence_core(row.version) == core:
            return row
    raise NotFound(f"Version {version} of model '{name}' not found")


def find_version(session: Session, project_id: str, name: str, version: str) -> Model:
    """As ``find_version_row``, loaded as an ORM object."""
    found = find_version_row(session.connection(), project_id, name, version)
    return session.get_one(Model, found.id)


def move_latest(
    session: Session,
    target: Model | Row[Any],
    kind: PromotionKind,
    actor: uuid.UUID | None,
    *,
    replaced: Model | None = None,
) -> Row[Any] | None:
    """Make ``target`` the latest of its name and return its updated row; None if it already is.

    The caller holds the name's lock and loaded ``target`` after taking it, so ``target.is_latest``
    is current. Three statements: clear the old latest (``RETURNING`` it: the event's "from", unless
    the caller names the version it ``replaced``), set the new one, insert the event; the loaded
    rows of the name are then told their new flags.
    """
    if target.is_latest:
        return None
    now = datetime.now(UTC)
    session.flush()  # the statements below go to the connection directly: pending changes first
    connection = session.connection()
    # statements, not attribute changes: a stale in-memory flag must never skip the clearing UPDATE
    previous: Model | Row[Any] | None = connection.execute(
        _CLEAR_LATEST, {"b_project": target.project_id, "b_name": target.name, "b_now": now}
    ).first()
    promoted = connection.execute(_SET_LATEST, {"b_target": target.id, "b_now": now}).one()
    _sync_latest_flags(session, target, now)
    if replaced is not None:
        previous = replaced
    connection.execute(
        _RECORD_EVENT,
        {
            "project_id": target.project_id,
            "name": target.name,
            "kind": kind.value,
            "from_model_id": previous.id if previous else None,
            "from_version": previous.version if previous else None,
            "to_model_id": target.id,
            "to_version": target.version,
            "actor_key_id": actor,
            "created_at": now,
        },
    )
    _roll_out(session, target.project_id, target.name)
    return promoted


def _roll_out(session: Session, project_id: str, name: str) -> None:
    """Endpoints follow the latest: when any follows this name, the loading service rolls them out
    (in the pointer's transaction, so a promote that rolls back sends nothing)."""
    followed = session.scalar(
        select(
            exists().where(
                Endpoint.model_project_id == project_id,
                Endpoint.model_name == name,
                Endpoint.deleted_at.is_(None),
            )
        )
    )
    if followed:
        outbox.enqueue(session, names.LOADING_FOLLOW, model_project_id=project_id, model_name=name)


def _sync_latest_flags(session: Session, target: Model | Row[Any], now: datetime) -> None:
    """Loaded versions of ``target``'s name take the flags the two updates just wrote."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Model) and obj.project_id == target.project_id and obj.name == target.name:
            is_target = obj.id == target.id
            if is_target or obj.is_latest:
                set_committed_value(obj, "is_latest", is_target)
                set_committed_value(obj, "updated_at", now)


def _drop_pending(session: Session, project_id: str, name: str) -> None:
    session.connection().execute(_DROP_PENDING, {"b_project": project_id, "b_name": name})


def promote(
    runtime: Runtime,
    project_id: str,
    model_id: uuid.UUID,
    version: str,
    actor: uuid.UUID | None,
    kind: PromotionKind = PromotionKind.PROMOTE,
) -> PromotionResult:
    """Promote (or roll back to) ``version`` of the model ``model_id`` belongs to."""
    try:
        with runtime.unit_of_work() as session:
            lock_name_of(session, project_id, model_id)
            connection = session.connection()  # Core rows on this hot path: no ORM bookkeeping
            name = connection.execute(_NAME_OF, {"model_id": model_id}).scalar()  # renamed meanwhile?
            if name is None:  # deleted while we waited for the lock: a 404, never a 500
                raise NotFound("Model not found")
            target = find_version_row(connection, project_id, name, version)  # read under the lock
            outcome = promotion_outcome(target.status)
            if outcome is PromotionOutcome.REFUSE:
                reason = f": {target.validation_error}" if target.validation_error else ""
                raise Conflict(f"Version {target.version} is in error and cannot be promoted{reason}")
            if kind is PromotionKind.ROLLBACK:
                _check_rollback(session, target)
            _drop_pending(session, project_id, name)
            if outcome is PromotionOutcome.PENDING:
                session.add(
                    PendingPromotion(
                        model_id=target.id,
                        project_id=project_id,
                        name=target.name,
                        kind=kind.value,
                        actor_key_id=actor,
                        created_at=datetime.now(UTC),
                    )
                )
                result = "pending"
            else:
                promoted = move_latest(session, target, kind, actor)
                result, target = ("promoted", promoted) if promoted is not None else ("unchanged", target)
    except IntegrityError:
        raise Conflict(
            "Another change to this model's latest version happened at the same time; retry"
        ) from None
    return PromotionResult(target, result)


def _check_rollback(session: Session, target: Model | Row[Any]) -> None:
    current = resolve_latest(session, target.project_id, target.name)
    if current is not None and current.id != target.id and not is_older(target.version, current.version):
        raise Conflict(
            f"Cannot roll back to {target.version}: it is not older than the latest version {current.version}"
            " (use promote)"
        )


def on_status_changed(runtime: Runtime, model_id: uuid.UUID) -> str:
    """A version reached ready or error: apply or drop its pending promotion. The first version of a
    name to become ready is latest (``first-ready``), even if an earlier one, latest since its
    creation, is still uploading or ended in error."""
    with runtime.unit_of_work() as session:
        model = session.get(Model, model_id)
        if model is None:
            return "missing"
        lock_name(session, model.project_id, model.name)
        model = session.get(Model, model_id, populate_existing=True)
        if model is None:  # deleted while we waited for the lock
            return "missing"
        pending = session.get(PendingPromotion, model_id)
        if model.status in SERVABLE:
            if pending is not None:
                session.delete(pending)
                move_latest(session, model, PromotionKind(pending.kind), pending.actor_key_id)
                return "promoted"
            current = resolve_latest(session, model.project_id, model.name)
            never_ready = not _has_history(session, model)  # no version of the name was ever latest and ready
            if current is None or (current.id != model.id and never_ready and current.status not in SERVABLE):
                move_latest(session, model, PromotionKind.FIRST_READY, None)
                return "first-ready"
            if current.id == model.id and never_ready:
                session.add(_first_ready_event(model))
                return "first-ready"
            return "nothing"
        if model.status == ModelStatus.ERROR and pending is not None:
            session.delete(pending)
            session.add(
                LifecycleEventRow(
                    model_id=model.id,
                    event="promotion_dropped",
                    from_status=model.status,
                    to_status=model.status,
                    reason=f"pending {pending.kind} dropped: version {model.version} ended in error",
                    created_at=datetime.now(UTC),
                )
            )
            return "dropped"
        return "nothing"


def _has_history(session: Session, model: Model) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(
                    PromotionEvent.project_id == model.project_id, PromotionEvent.name == model.name
                )
            )
        )
    )


def _first_ready_event(model: Model) -> PromotionEvent:
    """The first version was latest from its creation; record the moment it became servable."""
    return PromotionEvent(
        project_id=model.project_id,
        name=model.name,
        kind=PromotionKind.FIRST_READY.value,
        to_model_id=model.id,
        to_version=model.version,
        created_at=datetime.now(UTC),
    )
