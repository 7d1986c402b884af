"""``xerotier agent``: register this node as a backend, heartbeat, and consume its queue.

Registration and heartbeats are tasks for the loading service (``names.LOADING_REGISTER``,
``names.LOADING_HEARTBEAT``): the agent never opens the registry's database.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from xerotier.agent.context import AgentContext, set_context
from xerotier.agent.link import RegistryLink, set_link
from xerotier.domain.inventory import Inventory
from xerotier.queue import names

log = logging.getLogger(__name__)


def moe_config_files(folder: Path | None) -> list[str]:
    if folder is None or not folder.is_dir():
        return []
    return sorted(p.name for p in folder.glob("E=*.json"))


def backend_document(
    backend_id: str, inventory: Inventory, source: str, options: dict[str, Any]
) -> dict[str, Any]:
    """What a registration or a heartbeat tells the loading service about this backend."""
    return {"backend_id": backend_id, "inventory": inventory.to_json(), "source": source, "options": options}


class Heartbeat:
    """Sends a heartbeat task on a thread (the loading service re-registers a forgotten backend)."""

    def __init__(self, link: RegistryLink, document: dict[str, Any], interval: float) -> None:
        self.link, self.document, self.interval = link, document, interval
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, name="xerotier-heartbeat", daemon=True)

    def _run(self) -> None:
        while not self.done.wait(self.interval):
            try:
                self.link.send(names.LOADING_HEARTBEAT, **self.document)
            except Exception:  # the broker hiccuped: try again next beat
                log.exception("heartbeat of %s failed", self.document["backend_id"])

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.done.set()


def run(
    link: RegistryLink,
    context: AgentContext,
    inventory: Inventory,
    source: str,
    options: dict[str, Any],
    log_level: str,
) -> None:
    """Register, heartbeat, and consume ``gpu.<backend>`` with the solo pool (CUDA does not fork)."""
    set_context(context)
    set_link(link)
    context.cache_dir.mkdir(parents=True, exist_ok=True)
    options = {**options, "moeConfigFiles": moe_config_files(context.moe_config_dir)}
    document = backend_document(context.backend_id, inventory, source, options)
    link.send(names.LOADING_REGISTER, **document)
    beat = Heartbeat(link, document, link.settings.heartbeat_interval_seconds)
    beat.start()
    queue = names.gpu_queue(context.backend_id)
    print(
        f"Agent {context.backend_id}: {source} inventory {inventory.to_json()}; engine {context.engine}; "
        f"consuming {queue}",
        flush=True,
    )
    try:
        link.celery.worker_main(
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
        for proc in list(context.engines.values()):
            from xerotier.agent import engine_process

            engine_process.stop(proc)
