"""Metrics on the gateway and a worker, and one request id from HTTP through the task it causes.

Real PostgreSQL, Redis and a real ``xerotier worker`` process (JSON logs, its own metrics port).
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from support.processes import start_worker, wait_for_status
from xerotier.observability import context
from xerotier.queue import outbox
from xerotier.queue.names import VALIDATE
from xerotier.settings import Settings

pytestmark = pytest.mark.integration


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """``{(sample name, sorted labels): value}`` from a Prometheus exposition."""
    out: dict[tuple[str, tuple], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def value(scraped: dict, name: str, **labels: str) -> float:
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)


def upload(client, folder: Path, name: str, headers: dict[str, str] | None = None) -> str:
    created = client.post("/v1/models", json={"name": name}, headers=headers)
    assert created.status_code == 201, created.text
    model_id = created.json()["id"]
    for path in sorted(folder.iterdir()):
        put = client.put(f"/v1/models/{model_id}/files/{path.name}", content=path.read_bytes())
        assert put.status_code == 201, put.text
    done = client.post(f"/v1/models/{model_id}/complete", headers=headers)
    assert done.status_code == 202, done.text
    return model_id


def test_gateway_metrics_count_requests_by_route_template_and_status(pg_api):
    before = samples(pg_api.get("/metrics").text)
    for _ in range(3):
        assert pg_api.get("/v1/models").status_code == 200
    missing = pg_api.get("/v1/models/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    after_text = pg_api.get("/metrics")
    assert after_text.headers["content-type"].startswith("text/plain")
    after = samples(after_text.text)

    listed = dict(method="GET", route="/v1/models", status="200")
    assert (
        value(after, "xerotier_http_requests_total", **listed)
        - value(before, "xerotier_http_requests_total", **listed)
        == 3
    )
    one = dict(method="GET", route="/v1/models/{model_id}", status="404")
    assert (
        value(after, "xerotier_http_requests_total", **one)
        - value(before, "xerotier_http_requests_total", **one)
        == 1
    )
    timed = dict(method="GET", route="/v1/models")
    assert (
        value(after, "xerotier_http_request_duration_seconds_count", **timed)
        - value(before, "xerotier_http_request_duration_seconds_count", **timed)
        == 3
    )
    # the scrape itself is not counted, and every queue has a depth
    assert not any(labels and ("route", "/metrics") in labels for _, labels in after)
    for queue in ("upload", "validation", "catalog", "loading"):
        assert ("xerotier_queue_depth", (("queue", queue),)) in after


def test_request_id_is_echoed_and_an_unsafe_one_replaced(pg_api):
    kept = pg_api.get("/v1/models", headers={"X-Request-ID": "trace-42"})
    assert kept.headers["X-Request-ID"] == "trace-42"
    replaced = pg_api.get("/v1/models", headers={"X-Request-ID": "no spaces allowed"})
    assert replaced.headers["X-Request-ID"] not in ("", "no spaces allowed")


def test_request_id_flows_from_http_into_the_task_logs_and_worker_metrics(
    pg_api, pg_settings: Settings, pg_runtime, tiny_checkpoint, tmp_path
):
    port = free_port()
    settings = pg_settings.model_copy(
        update={"log_format": "json", "metrics_port": port, "heartbeat_file": tmp_path / "heartbeat"}
    )
    worker = start_worker(settings, ["upload", "validation", "catalog", "loading"], tmp_path / "w.log")
    try:
        model_id = upload(pg_api, tiny_checkpoint, "traced", headers={"X-Request-ID": "req-trace-7"})
        assert wait_for_status(pg_api, model_id, {"ready", "error"})["status"] == "ready"

        entries = []
        for line in worker.log().splitlines():
            if line.startswith("{"):
                entries.append(json.loads(line))
        traced = [e for e in entries if e.get("request_id") == "req-trace-7"]
        assert traced, "no worker log line carries the HTTP request id"
        assert {e["model_id"] for e in traced} == {model_id}
        assert any(VALIDATE in e["message"] for e in traced)

        scraped = {}
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # the success is counted just after the status commits
            scraped = samples(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text)
            if value(scraped, "xerotier_tasks_total", task=VALIDATE, outcome="success"):
                break
            time.sleep(0.2)
        assert value(scraped, "xerotier_tasks_total", task=VALIDATE, outcome="success") == 1
        assert value(scraped, "xerotier_task_duration_seconds_count", task=VALIDATE) == 1
        transitions = "xerotier_lifecycle_transitions_total"
        assert value(scraped, transitions, **{"from": "validating", "to": "ready"}) == 1
        assert value(scraped, transitions, **{"from": "", "to": "uploading"}) == 1
        assert value(scraped, "xerotier_models", status="ready") == 1
        assert value(scraped, "xerotier_queue_depth", queue="validation") == 0
        assert (tmp_path / "heartbeat").exists(), "the worker never touched its heartbeat file"
    finally:
        worker.stop()


def test_the_reconciler_touches_the_heartbeat_its_liveness_probe_reads(
    pg_settings: Settings, pg_runtime, tmp_path
):
    import subprocess
    import sys

    from support.processes import settings_env

    heartbeat = tmp_path / "beat"
    settings = pg_settings.model_copy(update={"heartbeat_file": heartbeat, "heartbeat_interval_seconds": 0.2})
    log = (tmp_path / "reconciler.log").open("wb")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "xerotier"), "reconciler"],
        env=settings_env(settings),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while not heartbeat.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert heartbeat.exists(), (tmp_path / "reconciler.log").read_text()
        first = heartbeat.stat().st_mtime_ns
        deadline = time.monotonic() + 10
        while heartbeat.stat().st_mtime_ns == first and time.monotonic() < deadline:
            time.sleep(0.1)
        assert heartbeat.stat().st_mtime_ns > first, "the heartbeat was touched once, then never again"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def test_a_task_the_relay_publishes_late_keeps_its_request_id(pg_settings: Settings, pg_runtime, tmp_path):
    """A crash between commit and publish: the relay publishes the row later, outside any request."""
    model_id = str(uuid.uuid4())
    tokens = context.bind("req-late-9", None)
    try:
        with pg_runtime.session_factory() as session:  # a plain commit: no fast-path publish
            outbox.enqueue(session, VALIDATE, model_id=model_id)
            session.commit()
    finally:
        context.unbind(tokens)
    assert context.request_id_var.get() is None
    settings = pg_settings.model_copy(update={"log_format": "json"})
    worker = start_worker(settings, ["validation"], tmp_path / "w.log")
    try:
        assert outbox.relay(pg_runtime.session_factory, pg_runtime.celery) == 1
        traced: list[dict] = []
        deadline = time.monotonic() + 30
        while not traced and time.monotonic() < deadline:
            time.sleep(0.2)
            lines = [json.loads(line) for line in worker.log().splitlines() if line.startswith("{")]
            traced = [e for e in lines if e.get("request_id") == "req-late-9" and VALIDATE in e["message"]]
        assert traced, f"the relayed task ran without the request id:\n{worker.log()[-3000:]}"
        assert {e.get("model_id") for e in traced} == {model_id}
    finally:
        worker.stop()
