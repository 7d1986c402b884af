"""``xerotier up``: the gateway, every worker and the housekeeper in one process, no server needed."""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass

import uvicorn
from celery import Celery
from sqlalchemy import select

from xerotier.db.migrate import upgrade
from xerotier.db.models import ApiKey
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


def banner(settings: Settings, url: str, key: str | None) -> list[str]:
    """What ``xerotier up`` prints once it is ready to start: where things are, and the key."""
    data_dir = settings.data_dir.resolve()
    lines = [
        "Xerotier is up (embedded: SQLite, local blobs, file-system broker).",
        f"  Data:      {data_dir}",
        f"  API:       {url}",
        f"  Dashboard: {url}/ui",
        f"  API docs:  {url}/docs",
    ]
    if key is not None:
        lines += [
            f"  API key: {key}",
            "  (printed once, on this registry's first start: keep it)",
            f"  export XEROTIER_API_URL={url} XEROTIER_API_KEY={key}",
        ]
    else:
        lines += [
            "  API key: minted on this registry's first start (not printed again). Mint another with:",
            f"    xerotier keys create --project default --data-dir {data_dir}",
        ]
    return lines


@dataclass
class Embedded:
    settings: Settings

    def prepare(self) -> tuple[Runtime, str | None]:
        """Migrate, recover from a previous crash, and mint a key on the registry's first start.

        A key is minted only while the ``default`` project has no active key (the first start, or
        after every key was revoked); later starts print how to mint another instead.
        """
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        runtime = Runtime(self.settings, ALL_SERVICES)
        set_runtime(runtime)
        upgrade(runtime.engine)
        runtime.blobs.clear_tmp()
        key: str | None = None
        with runtime.unit_of_work() as session:
            project = get_or_create_project(session, "default")
            active = session.scalar(
                select(ApiKey.id).where(ApiKey.project_id == project.id, ApiKey.revoked_at.is_(None)).limit(1)
            )
            if active is None:
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
        for line in banner(self.settings, url, key):
            print(line, flush=True)
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
