"""The walking skeleton on PostgreSQL + Redis with a real Celery worker process."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from support.checkpoints import tiny_parameter_count
from support.processes import wait_for_status
from xerotier.db.models import LifecycleEventRow, OutboxMessage

pytestmark = pytest.mark.integration


def upload_dir(client, folder: Path, name: str = "tiny-llama") -> str:
    created = client.post("/v1/models", json={"name": name})
    assert created.status_code == 201, created.text
    model = created.json()
    assert model["status"] == "uploading" and model["version"] == "1.0.0"
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            rel = path.relative_to(folder).as_posix()
            put = client.put(f"/v1/models/{model['id']}/files/{rel}", content=path.read_bytes())
            assert put.status_code == 201, put.text
    done = client.post(f"/v1/models/{model['id']}/complete")
    assert done.status_code == 202, done.text
    assert done.json()["status"] == "validating"
    return model["id"]


def test_upload_complete_validate_ready(pg_api, pg_worker, pg_runtime, tiny_checkpoint):
    model_id = upload_dir(pg_api, tiny_checkpoint)
    model = wait_for_status(pg_api, model_id, {"ready", "error"}, timeout=60)
    assert model["status"] == "ready", model["validationError"]
    assert model["format"] == "safetensors"
    assert model["architecture"] == "llama"
    assert model["contextLength"] == 4096
    assert model["parameterCount"] == tiny_parameter_count()
    assert model["sizeBytes"] == sum(p.stat().st_size for p in tiny_checkpoint.iterdir())
    assert model["isLatest"] is True and model["parentVersionId"] is None

    events = pg_api.get(f"/v1/models/{model_id}/events").json()["events"]
    assert [(e["from"], e["to"]) for e in events] == [
        (None, "uploading"),
        ("uploading", "validating"),
        ("validating", "ready"),
    ]
    # the ready transition's own message (catalog.status_changed) is published right after its commit
    deadline = time.monotonic() + 30
    while True:
        with pg_runtime.session_factory() as session:
            pending = session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.published_at.is_(None))
            )
        if pending == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert pending == 0
    with pg_runtime.session_factory() as session:
        transitions = session.scalar(select(func.count()).select_from(LifecycleEventRow))
        assert transitions == 3

    listed = pg_api.get("/v1/models").json()["models"]
    assert [m["id"] for m in listed] == [model_id]
    # the same path also works under /{projectId}/v1
    project = model["projectId"]
    assert pg_api.get(f"/{project}/v1/models/{model_id}").json()["status"] == "ready"


def test_broken_checkpoint_ends_in_error_with_reason(pg_api, pg_worker, tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}......")
    model_id = upload_dir(pg_api, folder, "broken")
    model = wait_for_status(pg_api, model_id, {"ready", "error"}, timeout=60)
    assert model["status"] == "error"
    assert model["validationError"].startswith("model.safetensors: header is not valid JSON")


def test_revalidation_goes_back_through_the_queue(pg_api, pg_worker, tiny_checkpoint):
    model_id = upload_dir(pg_api, tiny_checkpoint)
    wait_for_status(pg_api, model_id, {"ready"}, timeout=60)
    again = pg_api.post(f"/v1/models/{model_id}/revalidate")
    assert again.status_code == 202 and again.json()["status"] == "validating"
    wait_for_status(pg_api, model_id, {"ready"}, timeout=60)
    events = pg_api.get(f"/v1/models/{model_id}/events").json()["events"]
    assert [e["event"] for e in events][-2:] == ["revalidate", "validation_passed"]
