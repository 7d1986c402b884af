"""Soak: concurrent clients upload, version, promote, revalidate and delete while workers are
SIGKILLed at random; then the invariant checker runs and the figures are printed.

Bounded: ``XEROTIER_SOAK_SECONDS`` (default 60) of load, ``XEROTIER_SOAK_CLIENTS`` (default 4)
clients, loopback only (a real ``xerotier serve``, workers and reconciler on 127.0.0.1).
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from support import invariants
from support.faults import (
    free_port,
    signal_tree,
    start_fault_worker,
    start_gateway,
    start_reconciler,
    upload_model,
)
from xerotier.db.projects import create_key, get_or_create_project

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]
SECONDS = float(os.environ.get("XEROTIER_SOAK_SECONDS", "60"))
CLIENTS = int(os.environ.get("XEROTIER_SOAK_CLIENTS", "4"))
ALL = ["upload", "validation", "catalog", "loading"]


class Load:
    """The shared book-keeping of the clients: known models, counts of outcomes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.models: list[str] = []
        self.done: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()  # 4xx answers (a version already exists, not ready…)
        self.failures: list[str] = []  # 5xx answers and transport errors

    def record(self, op: str, response: httpx.Response) -> None:
        with self.lock:
            if response.status_code >= 500:
                self.failures.append(f"{op}: {response.status_code} {response.text[:200]}")
            elif response.status_code >= 400:
                self.refused[op] += 1
            else:
                self.done[op] += 1

    def pick(self, rng: random.Random) -> str | None:
        with self.lock:
            return rng.choice(self.models) if self.models else None


def client_loop(base: str, key: str, folder: Path, load: Load, seed: int, stop: threading.Event) -> None:
    rng = random.Random(seed)
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
        n = 0
        while not stop.is_set():
            op = rng.choices(["upload", "version", "revalidate", "delete"], weights=[4, 3, 2, 1])[0]
            try:
                if op == "upload" or not load.models:
                    model_id = upload_model(client, folder, f"soak-{seed}-{n}")
                    n += 1
                    with load.lock:
                        load.models.append(model_id)
                        load.done["upload"] += 1
                    continue
                model_id = load.pick(rng)
                if op == "version":
                    version = f"1.{rng.randint(1, 50)}.0"
                    body = {"version": version, "copyFiles": True}
                    load.record("version", client.post(f"/v1/models/{model_id}/versions", json=body))
                    load.record("promote", client.post(f"/v1/models/{model_id}/versions/{version}/promote"))
                elif op == "revalidate":
                    load.record("revalidate", client.post(f"/v1/models/{model_id}/revalidate"))
                else:
                    load.record("delete", client.delete(f"/v1/models/{model_id}", params={"force": "true"}))
            except (httpx.HTTPError, AssertionError) as exc:
                with load.lock:
                    load.failures.append(f"{op}: {type(exc).__name__}: {exc}")


def test_soak_with_random_worker_kills(fault_runtime, tiny_checkpoint, tmp_path: Path) -> None:
    settings = fault_runtime.settings.model_copy(update={"port": free_port()})
    with fault_runtime.unit_of_work() as session:
        _, key = create_key(session, get_or_create_project(session, "soak"), "soak")
    faults = tmp_path / "faults"
    workers = [start_fault_worker(settings, ALL, tmp_path / f"w{i}.log", faults) for i in range(3)]
    keeper = start_reconciler(settings, tmp_path / "reconciler.log")
    gateway = start_gateway(settings, tmp_path / "gateway.log")
    load, stop, rng = Load(), threading.Event(), random.Random(1)
    threads = [
        threading.Thread(target=client_loop, args=(gateway.url, key, tiny_checkpoint, load, seed, stop))
        for seed in range(CLIENTS)
    ]
    recoveries: list[float] = []
    try:
        for thread in threads:
            thread.start()
        deadline, spawned = time.monotonic() + SECONDS, 3
        while time.monotonic() < deadline:
            time.sleep(rng.uniform(3, 8))
            victim = workers.pop(rng.randrange(len(workers)))
            signal_tree(victim, signal.SIGKILL)
            killed = time.monotonic()
            workers.append(start_fault_worker(settings, ALL, tmp_path / f"w{spawned}.log", faults))
            recoveries.append(time.monotonic() - killed)
            spawned += 1
        stop.set()
        for thread in threads:
            thread.join(120)
        report = invariants.check(fault_runtime, "soak", settle_timeout=240, expect_models=1)
    finally:
        stop.set()
        gateway.stop()
        keeper.stop()
        for worker in workers:
            worker.stop()
    total = sum(load.done.values())
    print(
        f"soak: {SECONDS:.0f}s, {CLIENTS} clients, {total} operations done {dict(load.done)}, "
        f"{sum(load.refused.values())} refused (4xx) {dict(load.refused)}, {len(load.failures)} failures; "
        f"{len(recoveries)} workers killed, replacement ready in "
        f"{min(recoveries, default=0):.1f}–{max(recoveries, default=0):.1f}s; "
        f"everything settled {report.settle_seconds:.1f}s after the load stopped"
    )
    assert not load.failures, "\n".join(load.failures[:20])
    assert load.done["upload"] >= CLIENTS and recoveries
