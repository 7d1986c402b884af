"""Backend (GPU worker) registration and heartbeats, written by the agent, read by loading."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from xerotier.db.models import Backend, Load
from xerotier.db.results import rowcount
from xerotier.queue import names


def register_backend(
    session: Session,
    backend_id: str,
    inventory: dict[str, Any],
    source: str,
    options: dict[str, Any] | None = None,
) -> Backend:
    """Create or refresh ``backend_id`` with its inventory (``source``: discovered | declared)."""
    now = datetime.now(UTC)
    row = session.get(Backend, backend_id)
    if row is None:
        row = Backend(id=backend_id, registered_at=now)
        session.add(row)
    row.queue = names.gpu_queue(backend_id)
    row.inventory = inventory
    row.inventory_source = source
    row.options = options or {}
    row.registered_at = now
    row.heartbeat_at = now
    return row


def heartbeat(session: Session, backend_id: str) -> bool:
    """Mark ``backend_id`` alive now; False when it is not registered."""
    result = session.execute(
        update(Backend)
        .where(Backend.id == backend_id)
        .values(heartbeat_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


def is_alive(backend: Backend, dead_after: timedelta, now: datetime | None = None) -> bool:
    return backend.heartbeat_at >= (now or datetime.now(UTC)) - dead_after


def dead_backends(session: Session, dead_after: timedelta, now: datetime | None = None) -> list[str]:
    cutoff = (now or datetime.now(UTC)) - dead_after
    return list(session.scalars(select(Backend.id).where(Backend.heartbeat_at < cutoff)))


#: Load statuses that hold a backend (see ``xerotier.loading.statuses.LIVE_LOADS``).
LIVE_LOAD_STATUSES = ("loading", "loaded")


def has_orphaned_loads(session: Session, dead_after: timedelta, now: datetime | None = None) -> bool:
    """Whether a backend that missed its heartbeats still holds live loads (they need re-placing)."""
    cutoff = (now or datetime.now(UTC)) - dead_after
    found = session.execute(
        select(Load.id)
        .join(Backend, Backend.id == Load.backend_id)
        .where(Backend.heartbeat_at < cutoff, Load.status.in_(LIVE_LOAD_STATUSES))
        .limit(1)
    ).first()
    return found is not None
