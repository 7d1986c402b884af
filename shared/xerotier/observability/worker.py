"""A worker's observability: task metrics over every pool process, a /metrics server, a heartbeat.

Prefork pool processes count tasks in Prometheus's multi-process mode (files in one directory per
worker); the main process serves them, with the registry-wide gauges, on ``metrics_port``. The
heartbeat is a file the consumer's event loop touches: a stuck loop or a lost broker connection
stops it, and the liveness probe sees the file age.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from celery import Celery, bootsteps
from celery.signals import setup_logging, task_postrun, task_prerun

from xerotier.observability import correlation
from xerotier.observability.logs import configure_logging
from xerotier.runtime import Runtime
from xerotier.settings import Settings

log = logging.getLogger(__name__)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_metrics_dir(settings: Settings) -> Path:
    """Point Prometheus's multi-process mode at an empty directory (before prometheus_client loads)."""
    if "prometheus_client" in sys.modules and not os.environ.get(MULTIPROC_ENV):
        log.warning("prometheus_client was imported before the metrics directory was set")
    folder = settings.metrics_dir
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="xerotier-metrics-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(folder)
    return folder


@dataclass(frozen=True)
class TaskMetrics:
    tasks: Any
    duration: Any


@lru_cache(maxsize=1)
def task_metrics() -> TaskMetrics:
    """The task metric objects, built on first use (after the metrics directory is chosen)."""
    from prometheus_client import Counter, Histogram

    return TaskMetrics(
        tasks=Counter("xerotier_tasks", "Tasks run, by task name and outcome", ["task", "outcome"]),
        duration=Histogram(
            "xerotier_task_duration_seconds",
            "Task run time, by task name",
            ["task"],
            buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800, 3600),
        ),
    )


_started: dict[str, float] = {}


def _on_prerun(task_id: str | None = None, **_: Any) -> None:
    _started[task_id or ""] = time.perf_counter()


def _on_postrun(task_id: str | None = None, task: Any = None, state: str | None = None, **_: Any) -> None:
    started = _started.pop(task_id or "", None)
    name = getattr(task, "name", "unknown")
    metrics = task_metrics()
    metrics.tasks.labels(name, (state or "unknown").lower()).inc()
    if started is not None:
        metrics.duration.labels(name).observe(time.perf_counter() - started)


def serve_metrics(runtime: Runtime | None, port: int) -> None:
    """Serve every pool process's task metrics and the registry-wide gauges on ``port``.

    ``runtime`` None (the agent, which has no database): the task metrics only.
    """
    from prometheus_client import CollectorRegistry, multiprocess, start_http_server

    from xerotier.observability.cluster import ClusterCollector

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    if runtime is not None:
        registry.register(ClusterCollector(runtime))
    try:
        start_http_server(port, registry=registry)
    except OSError as exc:  # the worker still works; only its metrics are missing
        log.error("cannot serve worker metrics on port %d: %s", port, exc)
        return
    log.info("worker metrics on :%d/metrics", port)


class Heartbeat(bootsteps.StartStopStep):
    """Consumer step: touch the heartbeat file on the consumer's timer while connected."""

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.tref: Any = None

    def start(self, parent: Any) -> None:
        settings = _heartbeat_settings[0]
        self.tref = parent.timer.call_repeatedly(
            settings.heartbeat_interval_seconds, self.beat, (parent, settings.heartbeat_file), priority=10
        )
        self.beat(parent, settings.heartbeat_file)

    def stop(self, parent: Any) -> None:
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None

    @staticmethod
    def beat(parent: Any, path: Path) -> None:
        connection = getattr(parent, "connection", None)
        if connection is None or not connection.connected:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()


_heartbeat_settings: list[Settings] = []


def install(celery: Celery, settings: Settings) -> None:
    """Hook logging, correlation, task metrics and the heartbeat into this worker's Celery app."""
    setup_logging.connect(
        lambda **_: configure_logging(settings.log_level, settings.log_format),
        weak=False,
        dispatch_uid="xerotier.worker.logging",
    )
    correlation.install()
    task_prerun.connect(_on_prerun, weak=False, dispatch_uid="xerotier.worker.metrics.prerun")
    task_postrun.connect(_on_postrun, weak=False, dispatch_uid="xerotier.worker.metrics.postrun")
    _heartbeat_settings[:] = [settings]
    celery.steps["consumer"].add(Heartbeat)
