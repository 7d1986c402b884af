"""Bounded cost per request on a real socket: bodies limited before parsing, /healthz stays fast.

The gateway runs under uvicorn (SQLite runtime, embedded mode, one event loop as in production).
Oversized bodies, declared or chunked, authenticated or not, are 413 in the envelope before any
route or parser reads them; listing the files of a model whose stored tensor index is huge never
loads that index. While all of that is in flight, /healthz answers with p99 under 100 ms.
"""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
import uvicorn

from support.sharing import add_model, new_project
from xerotier.db import blob_refs
from xerotier.db.migrate import upgrade
from xerotier.db.models import ModelFile
from xerotier.gateway.app import create_app
from xerotier.runtime import Runtime, set_runtime
from xerotier.settings import Settings

pytestmark = pytest.mark.integration
LIMIT = 64 * 1024
BIG = 25 * 1024 * 1024


@pytest.fixture
def server(tmp_path) -> Iterator[tuple[str, str, Runtime]]:
    from conftest import free_port

    runtime = Runtime(Settings(data_dir=tmp_path / "data", max_json_body_bytes=LIMIT), [])
    upgrade(runtime.engine)
    set_runtime(runtime)
    _, key = new_project(runtime, "cost")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(runtime), port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", key, runtime
    server.should_exit = True
    thread.join(timeout=15)
    set_runtime(None)


def chunks(total: int, size: int = 256 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b"[" * min(size, total - sent)
        sent += size


def test_oversized_bodies_are_413_in_the_envelope_unread(server):
    base, key, _ = server
    with httpx.Client(base_url=base, timeout=30) as client:
        for headers in ({}, {"Authorization": f"Bearer {key}"}):
            declared = client.post("/v1/models", content=b"{" * (LIMIT + 1), headers=headers)
            assert declared.status_code == 413, declared.text
            assert declared.json()["error"]["code"] == "body_too_large"
            streamed = client.post("/v1/models", content=chunks(BIG), headers=headers)
            assert streamed.status_code == 413, streamed.text
            assert "XEROTIER_MAX_JSON_BODY_BYTES" in streamed.json()["error"]["message"]
        ok = client.post("/v1/models", json={"name": "small"}, headers={"Authorization": f"Bearer {key}"})
        assert ok.status_code == 201, ok.text


def _huge_index_model(runtime: Runtime, key: str, base: str) -> str:
    project_id = httpx.post(
        f"{base}/v1/models", json={"name": "probe"}, headers={"Authorization": f"Bearer {key}"}
    ).json()["projectId"]
    model_id = add_model(runtime, project_id, "huge-index")
    index = {f"t{i}": {"dtype": "F16", "shape": [1]} for i in range(300_000)}
    sha = uuid.uuid4().hex * 2
    with runtime.unit_of_work() as session:
        blob_refs.add_ref(session, sha, 1)
        session.add(
            ModelFile(
                model_id=uuid.UUID(model_id),
                path="model.safetensors",
                size_bytes=1,
                sha256=sha,
                header=index,
                created_at=datetime.now(UTC),
            )
        )
    return model_id


def test_healthz_stays_fast_while_costly_requests_are_in_flight(server):
    base, key, runtime = server
    model_id = _huge_index_model(runtime, key, base)
    auth = {"Authorization": f"Bearer {key}"}
    stop = threading.Event()
    done = {"requests": 0}
    errors: list[str] = []

    def hammer(kind: int) -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            while not stop.is_set():
                if kind == 0:
                    response = client.post("/v1/models", content=chunks(BIG))
                    expected = 413
                elif kind == 1:
                    response = client.post("/v1/models", content=chunks(BIG), headers=auth)
                    expected = 413
                else:
                    response = client.get(f"/v1/models/{model_id}/files", headers=auth)
                    expected = 200
                if response.status_code != expected:
                    errors.append(f"{kind}: {response.status_code} {response.text[:200]}")
                done["requests"] += 1

    threads = [threading.Thread(target=hammer, args=(kind,)) for kind in (0, 1, 2, 2)]
    for thread in threads:
        thread.start()
    latencies = []
    try:
        with httpx.Client(base_url=base, timeout=10) as client:
            time.sleep(0.5)  # every kind of request under way
            for _ in range(200):
                started = time.perf_counter()
                assert client.get("/healthz").status_code == 200
                latencies.append(time.perf_counter() - started)
                time.sleep(0.01)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    assert not errors, errors[:3]
    assert done["requests"] >= 8, done  # the costly requests really ran meanwhile
    p99 = statistics.quantiles(latencies, n=100)[98]
    print(
        f"/healthz under load: p99 {p99 * 1000:.1f} ms, median {statistics.median(latencies) * 1000:.1f} ms, "
        f"{done['requests']} costly requests meanwhile"
    )
    assert p99 < 0.100, f"/healthz p99 {p99 * 1000:.1f} ms (median {statistics.median(latencies) * 1000:.1f})"


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_the_diff_never_reads_the_index_of_a_shard_both_versions_share(request, backend):
    runtime: Runtime = request.getfixturevalue("pg_runtime" if backend == "postgresql" else "sqlite_runtime")
    from fastapi.testclient import TestClient
    from sqlalchemy import update

    project_id, key = new_project(runtime, "diff")
    shard, config_a, config_b = uuid.uuid4().hex * 2, uuid.uuid4().hex * 2, uuid.uuid4().hex * 2
    index = {f"t{i}": {"dtype": "F16", "shape": [1]} for i in range(1000)}
    ids = []
    for version, config in (("1.0.0", config_a), ("2.0.0", config_b)):
        model_id = add_model(
            runtime, project_id, "shared-shard", version=version, is_latest=version == "2.0.0"
        )
        ids.append(model_id)
        with runtime.unit_of_work() as session:
            for path, sha, header in (("model.safetensors", shard, index), ("config.json", config, None)):
                blob_refs.add_ref(session, sha, 1)
                session.add(
                    ModelFile(
                        model_id=uuid.UUID(model_id),
                        path=path,
                        size_bytes=1,
                        sha256=sha,
                        header=header,
                        created_at=datetime.now(UTC),
                    )
                )
    with runtime.unit_of_work() as session:  # the shared shard's stored index, made unreadable
        session.execute(
            update(ModelFile).where(ModelFile.sha256 == shard).values(header={"t0": "not an entry"})
        )
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        response = client.get(f"/v1/models/{ids[1]}/versions/diff", params={"from": "1.0.0", "to": "2.0.0"})
    assert response.status_code == 200, response.text
    diff = response.json()
    assert [c["path"] for c in diff["files"]["changed"]] == ["config.json"]
    assert diff["tensors"]["added"] == diff["tensors"]["removed"] == diff["tensors"]["changed"] == []
    assert diff["tensors"]["headersAvailable"] is True
