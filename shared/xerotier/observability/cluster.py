"""Registry-wide gauges read at scrape time: queue depths, models by status, lifecycle transitions.

They come from the database and the broker (the truth), not from one process's counters, so every
scrape is right whichever replica serves it. A failed read drops that family from the scrape and
logs why; it never fails the whole scrape.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import redis
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from xerotier.db.models import LifecycleEventRow, Model
from xerotier.queue import names
from xerotier.runtime import Runtime

log = logging.getLogger(__name__)
#: kombu's Redis transport keeps priorities 3, 6, 9 in sibling lists: ``<queue>\x06\x16<priority>``.
PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")


def redis_queue_depths(url: str, prefix: str, queues: list[str]) -> dict[str, int]:
    """Messages waiting in each queue (not those reserved by a worker: Redis cannot see in-flight)."""
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        pipe = client.pipeline()
        for queue in queues:
            for suffix in PRIORITY_SUFFIXES:
                pipe.llen(f"{prefix}{queue}{suffix}")
        counts = pipe.execute()
    finally:
        client.close()
    step = len(PRIORITY_SUFFIXES)
    return {queue: sum(counts[i * step : (i + 1) * step]) for i, queue in enumerate(queues)}


class ClusterCollector(Collector):
    """Prometheus collector over one runtime's database and broker."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        yield from self._safely("queue depths", self._queues)
        yield from self._safely("models by status", self._models)
        yield from self._safely("lifecycle transitions", self._transitions)

    def _safely(self, what: str, produce) -> Iterator[Metric]:
        try:
            yield from produce()
        except Exception as exc:
            log.warning("metrics: cannot read %s: %s", what, type(exc).__name__)

    def _queues(self) -> Iterator[Metric]:
        settings = self.runtime.settings
        url = settings.resolved_broker_url
        if not url.startswith(("redis://", "rediss://")):
            return
        family = GaugeMetricFamily("xerotier_queue_depth", "Messages waiting in a queue", labels=["queue"])
        depths = redis_queue_depths(url, settings.broker_key_prefix, list(names.SERVICE_QUEUES.values()))
        for queue, depth in sorted(depths.items()):
            family.add_metric([queue], depth)
        yield family

    def _models(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("xerotier_models", "Model versions by status", labels=["status"])
        with self.runtime.session_factory() as session:
            rows = session.execute(select(Model.status, func.count()).group_by(Model.status)).all()
        for status, count in sorted(rows):
            family.add_metric([status], count)
        yield family

    def _transitions(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "xerotier_lifecycle_transitions",
            "Lifecycle transitions recorded, by from and to status (re-drives have from == to)",
            labels=["from", "to"],
        )
        query = select(LifecycleEventRow.from_status, LifecycleEventRow.to_status, func.count()).group_by(
            LifecycleEventRow.from_status, LifecycleEventRow.to_status
        )
        with self.runtime.session_factory() as session:
            rows = session.execute(query).all()
        for from_status, to_status, count in sorted(rows, key=lambda r: (r[0] or "", r[1])):
            family.add_metric([from_status or "", to_status], count)
        yield family
