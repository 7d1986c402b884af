"""Apply lifecycle transitions to the database: compare-and-set, event row and outbox, one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from xerotier.db.models import LifecycleEventRow, Model
from xerotier.db.results import rowcount
from xerotier.domain.lifecycle import LifecycleEvent, ModelStatus, plan_transition
from xerotier.queue import names, outbox

#: Landing in one of these notifies the catalog (``names.CATALOG_STATUS_CHANGED``), e.g. to apply or
#: drop a pending promotion, in the same transaction as the status change.
NOTIFY_CATALOG: frozenset[ModelStatus] = frozenset({ModelStatus.READY, ModelStatus.ERROR})

#: Adds the outgoing tasks of a transition to the session (see ``xerotier.queue.outbox.enqueue``).
TaskWriter = Callable[[Session], object]  # what it returns is ignored


def apply_transition(
    session: Session,
    model_id: uuid.UUID,
    current: ModelStatus | str,
    event: LifecycleEvent,
    *,
    reason: str | None = None,
    deadline: timedelta | None = None,
    values: dict[str, Any] | None = None,
    then: TaskWriter | None = None,
) -> bool:
    """Move ``model_id`` from ``current`` by ``event`` if it is still ``current``.

    Returns False (and writes nothing) when another actor already moved it: a duplicate or late
    delivery is a no-op. Raises ``IllegalTransition`` when ``event`` is not legal from ``current``.
    The caller commits; ``then`` writes the outgoing tasks into the same transaction. Landing in
    ready or error also enqueues ``names.CATALOG_STATUS_CHANGED(model_id, status)``.
    """
    step = plan_transition(current, event)
    now = datetime.now(UTC)
    result = session.execute(
        update(Model)
        .where(Model.id == model_id, Model.status == step.source.value)
        .values(
            status=step.target.value,
            status_changed_at=now,
            updated_at=now,
            deadline_at=now + deadline if deadline is not None else None,
            attempts=0,
            **(values or {}),
        )
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        return False
    session.add(
        LifecycleEventRow(
            model_id=model_id,
            event=step.event.value,
            from_status=step.source.value,
            to_status=step.target.value,
            reason=reason,
            created_at=now,
        )
    )
    if step.target in NOTIFY_CATALOG:
        outbox.enqueue(
            session, names.CATALOG_STATUS_CHANGED, model_id=str(model_id), status=step.target.value
        )
    if then is not None:
        then(session)
    return True


def record_redrive(session: Session, model: Model, reason: str) -> None:
    """Log a re-drive (same status, new attempt) in the lifecycle event log."""
    session.add(
        LifecycleEventRow(
            model_id=model.id,
            event="redrive",
            from_status=model.status,
            to_status=model.status,
            reason=reason,
            created_at=datetime.now(UTC),
        )
    )
