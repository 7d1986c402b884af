"""Apply endpoint serving transitions: compare-and-set, event row and outbox, one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.orm import Session

from xerotier.db.models import Endpoint, EndpointEventRow
from xerotier.domain.rollout import EndpointEvent, EndpointStatus, plan_endpoint_transition

TaskWriter = Callable[[Session], None]
_UNSET: Any = object()


def move_endpoint(
    session: Session,
    endpoint_id: uuid.UUID,
    current: EndpointStatus | str,
    event: EndpointEvent,
    *,
    reason: str | None,
    values: dict[str, Any] | None = None,
    expect_target: uuid.UUID | Any | None = _UNSET,
    then: TaskWriter | None = None,
) -> bool:
    """Move ``endpoint_id`` from ``current`` by ``event`` if it is still ``current``.

    ``expect_target`` adds ``target_model_id = expect_target`` to the compare-and-set (a switch
    applies only to the version the endpoint is still rolling to). Returns False and writes
    nothing when another actor moved it first. The caller commits; ``then`` writes the outgoing
    tasks into the same transaction. Raises ``IllegalEndpointTransition``.
    """
    step = plan_endpoint_transition(current, event)
    row = session.get(Endpoint, endpoint_id)
    from_model = row.serving_model_id if row is not None else None
    where = [Endpoint.id == endpoint_id, Endpoint.status == step.source.value]
    if expect_target is not _UNSET:
        where.append(
            Endpoint.target_model_id.is_(None)
            if expect_target is None
            else Endpoint.target_model_id == expect_target
        )
    changes = {"status": step.target.value, "status_reason": reason, **(values or {})}
    session.flush()
    result = cast(
        CursorResult[Any],
        session.execute(
            update(Endpoint).where(*where).values(**changes).execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        return False
    if row is not None:
        session.refresh(row)
    session.add(
        EndpointEventRow(
            endpoint_id=endpoint_id,
            event=step.event.value,
            from_status=step.source.value,
            to_status=step.target.value,
            from_model_id=from_model,
            to_model_id=(values or {}).get("serving_model_id", (values or {}).get("target_model_id")),
            reason=reason,
            created_at=datetime.now(UTC),
        )
    )
    if then is not None:
        then(session)
    return True
