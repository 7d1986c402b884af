"""Fault injection on servers: restart Redis and PostgreSQL mid-flight, kill the gateway mid-upload.

Servers that are restarted are private to the test (free port, own folder): the machine's shared
PostgreSQL and Redis are never touched.
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from support import invariants
from support.faults import (
    PrivatePostgres,
    PrivateRedis,
    api_client,
    broker_kind,
    fault_settings,
    free_port,
    signal_tree,
    start_fault_worker,
    start_gateway,
    start_reconciler,
    upload_model,
    wait_for_log,
)
from xerotier.db.migrate import upgrade
from xerotier.db.projects import create_key, get_or_create_project
from xerotier.queue import names
from xerotier.runtime import Runtime, set_runtime

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
ALL = ["upload", "validation", "catalog", "loading"]


def _runtime(settings) -> Runtime:  # type: ignore[no-untyped-def]
    runtime = Runtime(settings, [])
    upgrade(runtime.engine)
    set_runtime(runtime)
    return runtime


@pytest.mark.redis_only
def test_restart_redis_with_tasks_queued_and_in_flight(pg_url, tmp_path, tiny_checkpoint):
    if broker_kind() != "redis":
        pytest.fail("this scenario restarts a private Redis: run it with XEROTIER_TEST_BROKER=redis")
    server = PrivateRedis(tmp_path / "redis", free_port())
    server.start()
    runtime = _runtime(fault_settings(tmp_path, pg_url, server.url))
    faults = tmp_path / "faults"
    worker = start_fault_worker(runtime.settings, ALL, tmp_path / "w.log", faults, slow=f"{names.VALIDATE}=2")
    keeper = start_reconciler(runtime.settings, tmp_path / "reconciler.log")
    try:
        with api_client(runtime) as api:
            ids = [upload_model(api, tiny_checkpoint, f"redis-{i}") for i in range(4)]
            wait_for_log(worker, r"FAULT started")
            server.restart(down_seconds=2)
            print("restarted Redis with 1 task in flight and 3 queued")
            report = invariants.check(runtime, "restart-redis", settle_timeout=150, expect_models=4)
    finally:
        keeper.stop()
        worker.stop()
        server.stop()
        set_runtime(None)
    assert report.statuses["ready"] == len(ids)


def test_restart_postgres_during_a_transition(fault_broker, tmp_path, tiny_checkpoint):
    server = PrivatePostgres(free_port())
    server.start()
    runtime = _runtime(fault_settings(tmp_path, server.url, *fault_broker))
    faults = tmp_path / "faults"
    worker = start_fault_worker(runtime.settings, ALL, tmp_path / "w.log", faults, slow=f"{names.VALIDATE}=2")
    keeper = start_reconciler(runtime.settings, tmp_path / "reconciler.log")
    try:
        with api_client(runtime) as api:
            ids = [upload_model(api, tiny_checkpoint, f"pg-{i}") for i in range(3)]
            wait_for_log(worker, r"FAULT started")
            time.sleep(1.5)  # the validation is about to apply its transition
            server.restart(down_seconds=3)
            print("restarted PostgreSQL while a validation was applying its transition")
            report = invariants.check(runtime, "restart-postgres", settle_timeout=150, expect_models=3)
    finally:
        keeper.stop()
        worker.stop()
        set_runtime(None)
        runtime.engine.dispose()
        server.destroy()
    assert report.statuses["ready"] == len(ids)


def _slow_body(total: int, chunk: int, started: threading.Event):  # type: ignore[no-untyped-def]
    sent = 0
    while sent < total:
        yield b"\0" * chunk
        sent += chunk
        started.set()
        time.sleep(0.05)


def test_kill_gateway_during_an_upload_stream(fault_runtime, tmp_path: Path, tiny_checkpoint):
    settings = fault_runtime.settings.model_copy(update={"port": free_port()})
    with fault_runtime.unit_of_work() as session:
        _, key = create_key(session, get_or_create_project(session, "gateway"), "faults")
    worker = start_fault_worker(settings, ALL, tmp_path / "w.log", tmp_path / "faults")
    keeper = start_reconciler(settings, tmp_path / "reconciler.log")
    gateway = start_gateway(settings, tmp_path / "gateway.log")
    headers = {"Authorization": f"Bearer {key}"}
    try:
        with httpx.Client(base_url=gateway.url, headers=headers, timeout=30) as client:
            model_id = client.post("/v1/models", json={"name": "interrupted"}).json()["id"]
            started = threading.Event()
            outcome: list[object] = []

            def stream() -> None:
                try:
                    outcome.append(
                        client.put(
                            f"/v1/models/{model_id}/files/model.safetensors",
                            content=_slow_body(64 << 20, 1 << 20, started),
                        )
                    )
                except httpx.HTTPError as exc:
                    outcome.append(exc)

            thread = threading.Thread(target=stream)
            thread.start()
            assert started.wait(30)
            time.sleep(0.5)
            signal_tree(gateway, signal.SIGKILL)
            thread.join(30)
            print(f"killed the gateway mid-stream; the client saw {type(outcome[0]).__name__}")
            assert isinstance(outcome[0], httpx.HTTPError)
        gateway = start_gateway(settings, tmp_path / "gateway2.log")
        with httpx.Client(base_url=gateway.url, headers=headers, timeout=30) as client:
            upload_model(client, tiny_checkpoint, "after-restart")
            report = invariants.check(
                fault_runtime, "kill-gateway-mid-upload", settle_timeout=120, expect_models=2
            )
            interrupted = client.get(f"/v1/models/{model_id}").json()
    finally:
        gateway.stop()
        keeper.stop()
        worker.stop()
    assert interrupted["status"] == "error", interrupted
    assert report.statuses == {"ready": 1, "error": 1}
