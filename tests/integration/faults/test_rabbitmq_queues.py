"""On RabbitMQ every queue the registry declares is a quorum queue (a real worker, a private vhost)."""

from __future__ import annotations

import subprocess

import pytest

from support.faults import fault_settings, start_fault_worker
from xerotier.db.migrate import upgrade
from xerotier.queue import names
from xerotier.runtime import Runtime

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


def test_worker_declares_quorum_queues(rabbit_vhost, pg_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = fault_settings(tmp_path, pg_url, rabbit_vhost)
    runtime = Runtime(settings, [])
    upgrade(runtime.engine)
    runtime.engine.dispose()
    worker = start_fault_worker(settings, list(names.SERVICE_QUEUES), tmp_path / "w.log", tmp_path / "f")
    try:
        vhost = rabbit_vhost.rsplit("/", 1)[1]
        listed = subprocess.run(
            ["rabbitmqctl", "list_queues", "-p", vhost, "--no-table-headers", "-q", "name", "type"],
            check=True, capture_output=True, text=True, timeout=60,
        ).stdout  # fmt: skip
    finally:
        worker.stop()
    types = dict(line.split() for line in listed.splitlines() if line.strip())
    print(f"queues on {vhost}: {types}")
    for queue in names.SERVICE_QUEUES.values():
        assert types.get(queue) == "quorum", types
