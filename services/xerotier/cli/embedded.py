"""``xerotier up``: the gateway, every worker and the housekeeper in one process, no server needed."""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass

import uvicorn
from celery import Celery

from xerotier.db.migrate import upgrade
from xerotier.db.projects import create_key, get_or_create_project
from xerotier.gateway.app import create_app
from xerotier.queue import names
from xerotier.queue.reconciler import Housekeeper, reconcile_once
from xerotier.runtime import Runtime, set_runtime
from xerotier.settings import Settings

log = logging.getLogger(__name__)
ALL_SERVICES = list(names.SERVICE_QUEUES)


class ThreadWorker:
    """A Celery worker consuming every service queue, on a thread of this process."""

    def __init__(self, celery: Celery, concurrency: int) -> None:
        self.controller = celery.WorkController(
            pool_cls="threads",
            concurrency=concurrency,
            queues=list(names.SERVICE_QUEUES.values()),
            hostname=f"embedded@{os.uname().nodename}",
            without_heartbeat=True,
            without_mingle=True,
            without_gossip=True,
            loglevel=logging.INFO,
        )
        self.thread = threading.Thread(target=self.controller.start, name="xerotier-worker", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.controller.stop(in_sighandler=False)
        self.thread.join(timeout=15)


@dataclass
class Embedded:
    settings: Settings

    def prepare(self) -> tuple[Runtime, str]:
        """Migrate, recover from a previous crash, and mint the key this run prints."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        runtime = Runtime(self.settings, ALL_SERVICES)
        set_runtime(runtime)
        upgrade(runtime.engine)
        runtime.blobs.clear_tmp()
        with runtime.unit_of_work() as session:
            project = get_or_create_project(session, "default")
            _, key = create_key(session, project, name="xerotier up")
        # A crash may have swallowed messages in flight: re-drive everything that was validating.
        recovered = reconcile_once(runtime, include_all_validating=True)
        if recovered:
            log.info("re-drove %d model(s) left in flight by the previous run", recovered)
        return runtime, key

    def run(self) -> None:
        runtime, key = self.prepare()
        url = f"http://{self.settings.host}:{self.settings.port}"
        worker = ThreadWorker(runtime.celery, self.settings.worker_concurrency)
        housekeeper = Housekeeper(runtime)
        worker.start()
        housekeeper.start()
        print("Xerotier is up (embedded: SQLite, local blobs, file-system broker).", flush=True)
        print(f"  Data:    {self.settings.data_dir.resolve()}", flush=True)
        print(f"  API:     {url}", flush=True)
        print(f"  API key: {key}", flush=True)
        print(f"  export XEROTIER_API_URL={url} XEROTIER_API_KEY={key}", flush=True)
        config = uvicorn.Config(
            create_app(runtime),
            host=self.settings.host,
            port=self.settings.port,
            log_level=self.settings.log_level.lower(),
            access_log=False,
        )
        try:
            uvicorn.Server(config).run()
        finally:
            housekeeper.stop()
            worker.stop()
            runtime.close()
