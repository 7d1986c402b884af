"""Transactional outbox: tasks are written with the state change, published after commit.

``enqueue`` adds a row in the caller's transaction. After commit, the unit of work publishes the
rows it wrote at once (the fast path); ``relay_pending`` publishes anything left behind — a crash
between commit and publish, or a broker that was down — so a committed task is never lost.
A published row may be published again (crash before it is marked): consumers are idempotent.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from celery import Celery
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from xerotier.db.models import OutboxMessage
from xerotier.observability import context
from xerotier.queue import names

log = logging.getLogger(__name__)
PENDING_KEY = "xerotier.outbox.pending"


def enqueue(session: Session, task_name: str, *, queue: str | None = None, **kwargs: Any) -> OutboxMessage:
    """Record ``task_name(**kwargs)`` to publish once this transaction commits."""
    row = OutboxMessage(
        task_id=f"{task_name}:{uuid.uuid4()}",
        task_name=task_name,
        queue=queue or names.queue_for(task_name),
        kwargs=kwargs,
        created_at=datetime.now(UTC),
        available_at=datetime.now(UTC),
        attempts=0,
        request_id=(context.request_id_var.get() or "")[:128] or None,
    )
    session.add(row)
    session.info.setdefault(PENDING_KEY, []).append(row)
    return row


def take_pending(session: Session) -> list[int]:
    """Ids of the outbox rows written in this session (call after commit)."""
    rows = session.info.pop(PENDING_KEY, [])
    return [row.id for row in rows if row.id is not None]


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(60, 2 ** min(attempts, 6)))


def _publish(celery: Celery, row: OutboxMessage) -> None:
    headers = {context.TASK_REQUEST_ID: row.request_id} if row.request_id else None
    celery.send_task(
        row.task_name,
        kwargs=row.kwargs,
        task_id=row.task_id,
        queue=row.queue,
        routing_key=row.queue,
        headers=headers,
        retry=True,
        retry_policy={"max_retries": 3, "interval_start": 0.2, "interval_step": 0.5},
    )


def relay(
    session_factory: sessionmaker[Session], celery: Celery, ids: list[int] | None = None, limit: int = 100
) -> int:
    """Publish unpublished rows (those in ``ids``, or the oldest due ones); return how many went out."""
    sent = 0
    with session_factory() as session:
        query = select(OutboxMessage).where(OutboxMessage.published_at.is_(None))
        if ids is not None:
            if not ids:
                return 0
            query = query.where(OutboxMessage.id.in_(ids))
        else:
            query = query.where(OutboxMessage.available_at <= datetime.now(UTC))
        query = query.order_by(OutboxMessage.id).limit(limit)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        for row in session.scalars(query).all():
            try:
                _publish(celery, row)
            except Exception as exc:  # the broker is down: try again later, the row stays
                log.warning("outbox: publishing %s failed: %s", row.task_id, exc)
                row.attempts += 1
                row.available_at = datetime.now(UTC) + _backoff(row.attempts)
                row.last_error = str(exc)[:500]
                continue
            row.published_at = datetime.now(UTC)
            sent += 1
        session.commit()
    return sent


def prune_published(
    session_factory: sessionmaker[Session], older_than: timedelta, *, batch: int = 1000, max_batches: int = 50
) -> int:
    """Delete rows published more than ``older_than`` ago, ``batch`` rows per transaction (the
    lifecycle log keeps the history); return how many were deleted. Unpublished rows are never
    touched. At most ``max_batches`` per call, so one call never holds the database for long."""
    cutoff = datetime.now(UTC) - older_than
    deleted = 0
    for _ in range(max_batches):
        with session_factory() as session:
            ids = select(OutboxMessage.id).where(OutboxMessage.published_at < cutoff).limit(batch)
            result = session.execute(
                delete(OutboxMessage)
                .where(OutboxMessage.id.in_(ids.scalar_subquery()))
                .execution_options(synchronize_session=False)
            )
            session.commit()
        count = int(getattr(result, "rowcount", 0) or 0)
        deleted += count
        if count < batch:
            break
    return deleted
