"""``xerotier agent``: register this GPU node as a backend, heartbeat, and consume its queue."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import select

from xerotier.agent.context import AgentContext, set_context
from xerotier.db.backends import heartbeat, register_backend
from xerotier.db.models import Endpoint
from xerotier.domain.inventory import Inventory
from xerotier.queue import names, outbox
from xerotier.runtime import Runtime

log = logging.getLogger(__name__)
#: Endpoints that wait for a backend: a new one may be able to serve them.
WAITING_ENDPOINT_STATUSES = ("pending", "failed")


def moe_config_files(folder: Path | None) -> list[str]:
    if folder is None or not folder.is_dir():
        return []
    return sorted(p.name for p in folder.glob("E=*.json"))


def register(
    runtime: Runtime, backend_id: str, inventory: Inventory, source: str, options: dict[str, Any]
) -> None:
    """Record the backend, then ask loading to place the endpoints that are waiting for one."""
    with runtime.unit_of_work() as session:
        register_backend(session, backend_id, inventory.to_json(), source, options)
        waiting = session.scalars(
            select(Endpoint.id).where(
                Endpoint.deleted_at.is_(None), Endpoint.status.in_(WAITING_ENDPOINT_STATUSES)
            )
        )
        for endpoint_id in waiting:
            outbox.enqueue(session, names.LOADING_PLACE, endpoint_id=str(endpoint_id))


class Heartbeat:
    """Refreshes the backend's heartbeat on a thread; re-registers when the row has vanished."""

    def __init__(self, runtime: Runtime, backend_id: str, reregister) -> None:  # type: ignore[no-untyped-def]
        self.runtime, self.backend_id, self.reregister = runtime, backend_id, reregister
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, name="xerotier-heartbeat", daemon=True)

    def _run(self) -> None:
        interval = self.runtime.settings.heartbeat_interval_seconds
        while not self.done.wait(interval):
            try:
                with self.runtime.unit_of_work() as session:
                    alive = heartbeat(session, self.backend_id)
                if not alive:
                    self.reregister()
            except Exception:  # the database hiccuped: try again next beat
                log.exception("heartbeat of %s failed", self.backend_id)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.done.set()


def run(
    runtime: Runtime,
    context: AgentContext,
    inventory: Inventory,
    source: str,
    options: dict[str, Any],
    log_level: str,
) -> None:
    """Register, heartbeat, and consume ``gpu.<backend>`` with the solo pool (CUDA does not fork)."""
    set_context(context)
    context.cache_dir.mkdir(parents=True, exist_ok=True)
    options = {**options, "moeConfigFiles": moe_config_files(context.moe_config_dir)}
    register(runtime, context.backend_id, inventory, source, options)
    beat = Heartbeat(
        runtime, context.backend_id, lambda: register(runtime, context.backend_id, inventory, source, options)
    )
    beat.start()
    queue = names.gpu_queue(context.backend_id)
    print(
        f"Agent {context.backend_id}: {source} inventory {inventory.to_json()}; consuming {queue}", flush=True
    )
    try:
        runtime.celery.worker_main(
            [
                "worker",
                "--loglevel",
                log_level.upper(),
                "-Q",
                queue,
                "--hostname",
                f"agent-{context.backend_id}@%h",
                "--pool",
                "solo",
                "--concurrency",
                "1",
                "--without-mingle",
                "--without-gossip",
            ]
        )
    finally:
        beat.stop()
