"""The periodic reconciler: no lost message can strand a model.

Every in-flight status has a deadline (``models.deadline_at``). Past it, the model is re-driven
(its task sent again through the outbox, ``attempts`` + 1) or, after ``max_attempts``, moved to
``error`` with a reason. Runs in ``xerotier up``, in ``xerotier reconciler``, and in tests.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from xerotier.db.backends import has_orphaned_loads
from xerotier.db.models import Model
from xerotier.db.transitions import apply_transition, record_redrive
from xerotier.domain import redrive
from xerotier.domain.lifecycle import IN_FLIGHT, LifecycleEvent, ModelStatus
from xerotier.queue import names, outbox
from xerotier.runtime import Runtime
from xerotier.storage.collector import collect

log = logging.getLogger(__name__)
#: The task a re-driven model's status is waiting for.
REDRIVE_TASKS: dict[ModelStatus, str] = {ModelStatus.VALIDATING: names.VALIDATE}


def reconcile_once(
    runtime: Runtime, *, now: datetime | None = None, include_all_validating: bool = False, limit: int = 200
) -> int:
    """Re-drive or give up on overdue models; return how many were handled.

    ``include_all_validating`` treats every validating model as overdue: ``xerotier up`` uses it at
    start-up, where no other process can be working on them.
    """
    settings = runtime.settings
    now = now or datetime.now(UTC)
    overdue = Model.deadline_at < now
    if include_all_validating:
        overdue = overdue | (Model.status == ModelStatus.VALIDATING.value)
    handled = 0
    with runtime.unit_of_work() as session:
        query = (
            select(Model)
            .where(Model.status.in_([s.value for s in IN_FLIGHT]), overdue)
            .order_by(Model.deadline_at)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        for model in session.scalars(query).all():
            action = redrive.decide(model.status, model.attempts, settings.max_attempts)
            if isinstance(action, redrive.GiveUp):
                apply_transition(
                    session,
                    model.id,
                    model.status,
                    LifecycleEvent.EXPIRE,
                    reason=action.reason,
                    values={"validation_error": action.reason},
                )
                log.warning("reconciler: model %s → error: %s", model.id, action.reason)
            elif isinstance(action, redrive.Redrive):
                session.execute(
                    update(Model)
                    .where(Model.id == model.id, Model.status == model.status)
                    .values(
                        attempts=Model.attempts + 1,
                        deadline_at=now + timedelta(seconds=settings.validation_deadline_seconds),
                    )
                    .execution_options(synchronize_session=False)
                )
                record_redrive(session, model, action.reason)
                outbox.enqueue(session, REDRIVE_TASKS[ModelStatus(model.status)], model_id=str(model.id))
                log.info("reconciler: model %s: %s", model.id, action.reason)
            handled += 1
    return handled


def sweep_backends(runtime: Runtime) -> bool:
    """Ask the loading service to re-place the loads of dead backends, when there are any."""
    dead_after = timedelta(seconds=runtime.settings.backend_dead_after_seconds)
    with runtime.unit_of_work() as session:
        if not has_orphaned_loads(session, dead_after):
            return False
        outbox.enqueue(session, names.LOADING_SWEEP)
    return True


def sweep_idle_endpoints(runtime: Runtime) -> bool:
    """Scale to zero: ask the loading service to unload idle endpoints (when the setting is on)."""
    if runtime.settings.endpoint_idle_seconds <= 0:
        return False
    with runtime.unit_of_work() as session:
        outbox.enqueue(session, names.LOADING_IDLE_SWEEP)
    return True


class Housekeeper:
    """A background thread: relays the outbox and reconciles, until stopped."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="xerotier-housekeeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        settings = self.runtime.settings
        next_reconcile = next_gc = time.monotonic()
        while not self._stop.is_set():
            try:
                outbox.relay(self.runtime.session_factory, self.runtime.celery)
                if time.monotonic() >= next_reconcile:
                    reconcile_once(self.runtime)
                    sweep_backends(self.runtime)
                    self.prune_outbox()
                    sweep_idle_endpoints(self.runtime)
                    next_reconcile = time.monotonic() + settings.reconcile_interval_seconds
                if settings.blob_gc_interval_seconds > 0 and time.monotonic() >= next_gc:
                    next_gc = time.monotonic() + settings.blob_gc_interval_seconds
                    self.collect_blobs()
            except Exception:
                log.exception("housekeeping failed; retrying")
            self._stop.wait(settings.relay_interval_seconds)

    def prune_outbox(self) -> None:
        retention = timedelta(hours=self.runtime.settings.outbox_retention_hours)
        pruned = outbox.prune_published(self.runtime.session_factory, retention)
        if pruned:
            log.info("outbox: deleted %d row(s) published more than %s ago", pruned, retention)

    def collect_blobs(self) -> None:
        report = collect(
            self.runtime.session_factory,
            self.runtime.blobs,
            timedelta(seconds=self.runtime.settings.blob_gc_grace_seconds),
        )
        if report.removed or report.orphans:
            log.info(
                "blob collector: removed %d unreferenced and %d orphaned blob(s)",
                len(report.removed),
                len(report.orphans),
            )
