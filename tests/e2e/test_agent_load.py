"""Upload → ready → endpoint → placed → a real agent (``--device cpu``) loads it through the real
queue → acknowledged → ``active``; unload → ``ready``. A corrupted blob fails its load, named."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from support.agent_process import start_agent, wait_registered
from support.checkpoints import write_tiny_checkpoint
from support.processes import wait_for_status
from support.registry_rows import endpoint
from xerotier.db.models import Backend, Endpoint, Load, ModelFile
from xerotier.queue import names, outbox

pytestmark = pytest.mark.e2e


def upload(client, folder: Path, name: str) -> str:
    model = client.post("/v1/models", json={"name": name}).json()
    for path in sorted(folder.iterdir()):
        put = client.put(f"/v1/models/{model['id']}/files/{path.name}", content=path.read_bytes())
        assert put.status_code == 201, put.text
    assert client.post(f"/v1/models/{model['id']}/complete").status_code == 202
    return model["id"]


def wait_endpoint(runtime, endpoint_id: uuid.UUID, statuses: set[str], timeout: float = 90) -> Endpoint:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with runtime.session_factory() as session:
            row = session.get(Endpoint, endpoint_id)
            if row.status in statuses:
                return row
        time.sleep(0.2)
    raise TimeoutError(f"endpoint {endpoint_id} still {row.status}: {row.status_reason}")


@pytest.fixture
def cpu_agent(pg_settings, pg_runtime, pg_worker, tmp_path):
    """An agent with the built-in load check (the real engine: tests/e2e/test_serving.py)."""
    proc = start_agent(
        pg_settings, "cpu-1", ["--device", "cpu", "--engine", "builtin"], tmp_path / "agent.log"
    )
    wait_registered(pg_runtime, "cpu-1", proc)
    yield proc
    proc.stop()


def test_agent_loads_through_the_queue_and_the_model_becomes_active(
    pg_api, pg_worker, pg_runtime, cpu_agent, tmp_path
):
    with pg_runtime.session_factory() as session:
        backend = session.get(Backend, "cpu-1")
        assert backend.inventory_source == "declared" and backend.inventory["device"] == "cpu"
        assert backend.queue == "gpu.cpu-1"

    good = upload(pg_api, write_tiny_checkpoint(tmp_path / "good"), "tiny")
    wait_for_status(pg_api, good, {"ready"}, timeout=60)

    ep = endpoint(pg_runtime, "tiny", place=True)
    row = wait_endpoint(pg_runtime, ep, {"serving", "failed"})
    assert row.status == "serving", row.status_reason + "\n" + cpu_agent.log()[-3000:]
    assert wait_for_status(pg_api, good, {"active"}, timeout=30)["status"] == "active"
    with pg_runtime.session_factory() as session:
        load = session.scalars(select(Load).where(Load.endpoint_id == ep)).one()
    assert load.status == "loaded" and load.backend_id == "cpu-1"
    ack = load.ack
    assert ack["ok"] is True and ack["quantizationReason"] == "native_fits"
    assert ack["appliedQuantization"] is None
    assert ack["contextLength"] == 4096  # the tiny model's whole context fits in host memory
    assert ack["engine"]["kind"] == "builtin" and ack["engine"]["tensors"] == 7  # every tensor read once
    assert ack["engine"]["serving"] is False  # a load check, never presented as serving
    assert ack["staging"]["copied"] == 2 and "stageSeconds" in ack["timings"]

    # unload: the model returns to ready, the agent drops the model folder (the blob cache stays)
    with pg_runtime.unit_of_work() as session:
        outbox.enqueue(session, names.LOADING_UNLOAD, endpoint_id=str(ep))
    assert wait_for_status(pg_api, good, {"ready"}, timeout=30)["status"] == "ready"
    folder = Path(pg_runtime.settings.resolved_agent_cache_dir) / "cpu-1" / "models" / str(load.id)
    deadline = time.monotonic() + 30
    while folder.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not folder.exists()


def test_a_corrupted_blob_fails_the_load_naming_the_file(pg_api, pg_worker, pg_runtime, cpu_agent, tmp_path):
    folder = write_tiny_checkpoint(tmp_path / "bad")
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "torch_dtype": "float16"}))
    model_id = upload(pg_api, folder, "tampered")
    wait_for_status(pg_api, model_id, {"ready"}, timeout=60)
    with pg_runtime.session_factory() as session:
        sha = session.scalars(
            select(ModelFile.sha256).where(
                ModelFile.model_id == uuid.UUID(model_id), ModelFile.path == "config.json"
            )
        ).one()
    blob = pg_runtime.blobs.path_for(sha)
    blob.write_bytes(blob.read_bytes() + b" ")  # still valid JSON: only the digest tells

    ep = endpoint(pg_runtime, "tampered", place=True)
    row = wait_endpoint(pg_runtime, ep, {"serving", "failed"})
    assert row.status == "failed"
    assert "config.json: sha256 mismatch" in row.status_reason
    assert pg_api.get(f"/v1/models/{model_id}").json()["status"] == "ready"
