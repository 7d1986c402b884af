"""Fault injection on workers: SIGKILL mid-task, SIGSTOP past the lease, every message dropped once.

Real PostgreSQL, a real broker (Redis, or RabbitMQ with ``XEROTIER_TEST_BROKER=amqp``) and real
``xerotier worker`` / ``xerotier reconciler`` processes; the fault plugin (tests/support/fault_plugin)
slows or drops tasks inside the worker. After each scenario the invariant checker runs.
"""

from __future__ import annotations

import re
import signal
import time

import pytest

from support import invariants
from support.faults import signal_tree, start_fault_worker, start_reconciler, upload_model, wait_for_log
from xerotier.queue import names

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
ALL = ["upload", "validation", "catalog", "loading"]


@pytest.fixture
def reconciler(fault_runtime, tmp_path):
    proc = start_reconciler(fault_runtime.settings, tmp_path / "reconciler.log")
    yield proc
    proc.stop()


def test_sigkill_validation_worker_mid_task(fault_runtime, fault_api, reconciler, tiny_checkpoint, tmp_path):
    settings, faults = fault_runtime.settings, tmp_path / "faults"
    victim = start_fault_worker(
        settings, ["validation"], tmp_path / "victim.log", faults, slow=f"{names.VALIDATE}=30"
    )
    ids = [upload_model(fault_api, tiny_checkpoint, f"killed-{i}") for i in range(3)]
    wait_for_log(victim, r"FAULT started xerotier\.validation\.validate")
    signal_tree(victim, signal.SIGKILL)
    print(f"killed validation worker {victim.popen.pid} mid-task")
    survivor = start_fault_worker(settings, ALL, tmp_path / "survivor.log", faults, concurrency=2)
    try:
        report = invariants.check(fault_runtime, "sigkill-mid-task", settle_timeout=120, expect_models=3)
    finally:
        survivor.stop()
    assert report.statuses["ready"] == len(ids)


def test_sigstop_worker_past_its_lease(fault_runtime, fault_api, reconciler, tiny_checkpoint, tmp_path):
    settings, faults = fault_runtime.settings, tmp_path / "faults"
    frozen = start_fault_worker(
        settings, ["validation"], tmp_path / "frozen.log", faults, slow=f"{names.VALIDATE}=2"
    )
    model_id = upload_model(fault_api, tiny_checkpoint, "frozen")
    wait_for_log(frozen, r"FAULT started xerotier\.validation\.validate")
    signal_tree(frozen, signal.SIGSTOP)
    lease = settings.validation_deadline_seconds + settings.visibility_timeout_seconds
    print(f"stopped worker {frozen.popen.pid}; waiting {lease}s past its lease")
    helper = start_fault_worker(settings, ALL, tmp_path / "helper.log", faults, concurrency=2)
    try:
        time.sleep(lease)
        signal_tree(frozen, signal.SIGCONT)
        print("continued the stopped worker: its late result must change nothing")
        wait_for_log(frozen, r"FAULT finished xerotier\.validation\.validate")  # its stale validation
        report = invariants.check(fault_runtime, "sigstop-past-lease", settle_timeout=120)
    finally:
        helper.stop()
        frozen.stop()
    assert report.statuses["ready"] == 1
    events = fault_api.get(f"/v1/models/{model_id}/events").json()["events"]
    assert sum(e["event"] == "validation_passed" for e in events) == 1


def test_every_message_dropped_once(fault_runtime, fault_api, reconciler, tiny_checkpoint, tmp_path):
    settings, faults = fault_runtime.settings, tmp_path / "faults"
    worker = start_fault_worker(settings, ALL, tmp_path / "dropper.log", faults, concurrency=2, drop_once="1")
    try:
        ids = [upload_model(fault_api, tiny_checkpoint, f"dropped-{i}") for i in range(3)]
        report = invariants.check(
            fault_runtime, "drop-every-message-once", settle_timeout=180, expect_models=3
        )
        dropped = re.findall(r"FAULT dropped (\S+)", worker.log())
    finally:
        worker.stop()
    print(f"dropped {len(dropped)} first deliveries: {sorted(set(dropped))}")
    assert dropped.count(names.VALIDATE) >= len(ids)
    assert report.statuses["ready"] == len(ids)
