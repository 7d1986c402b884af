"""Other ways in, through a real upload worker on PostgreSQL + Redis: bucket events and Hub import."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from fastapi.testclient import TestClient

from conftest import mint_key
from support.hf_folders import write_hf_folder
from support.hub_cache import add_to_hub_cache
from support.processes import ManagedProcess, start_worker, wait_for_status
from xerotier.gateway.app import create_app
from xerotier.queue import names
from xerotier.runtime import Runtime, set_runtime
from xerotier.settings import Settings

pytestmark = pytest.mark.integration
COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def ingest_settings(pg_settings: Settings, pg_runtime: Runtime, tmp_path: Path) -> Settings:
    return pg_settings.model_copy(update={"ingest_root": tmp_path / "buckets"})


@pytest.fixture
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "hub-cache"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    return cache


@pytest.fixture
def upload_worker(ingest_settings: Settings, hub_cache: Path, tmp_path: Path) -> Iterator[ManagedProcess]:
    """Real worker processes: upload (bucket reads from ingest_root, Hub offline) and validation."""
    proc = start_worker(ingest_settings, ["upload", "validation", "catalog"], tmp_path / "worker.log")
    yield proc
    proc.stop()


@pytest.fixture
def api(ingest_settings: Settings) -> Iterator[tuple[TestClient, Runtime]]:
    runtime = Runtime(ingest_settings, [])
    set_runtime(runtime)
    key = mint_key(runtime, "acme")
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        yield client, runtime


def land(settings: Settings, bucket: str, key: str, data: bytes) -> dict:
    """Write an object into the bucket mirror and return its notification record (as MinIO sends)."""
    path = settings.ingest_root / bucket / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {
        "eventName": "s3:ObjectCreated:Put",
        "s3": {
            "bucket": {"name": bucket},
            "object": {
                "key": quote_plus(key, safe="/"),
                "size": len(data),
                "eTag": hashlib.md5(data).hexdigest(),
            },
        },
    }


def notify(client: TestClient, *records: dict) -> None:
    response = client.post("/v1/upload-events", json={"Records": list(records)})
    assert response.status_code == 202, response.text
    assert response.json()["accepted"] == len(records)


def model_named(client: TestClient, name: str, version: str = "1.0.0") -> dict | None:
    models = client.get("/v1/models", params={"allVersions": "true"}).json()["models"]
    return next((m for m in models if m["name"] == name and m["version"] == version), None)


def wait_model(client: TestClient, name: str, timeout: float = 60) -> dict:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = model_named(client, name)
        if found:
            return found
        time.sleep(0.1)
    raise TimeoutError(f"no model {name}")


def test_bucket_events_out_of_order_and_duplicated_end_ready(api, upload_worker, ingest_settings, tmp_path):
    client, _ = api
    folder = write_hf_folder(tmp_path / "hf")
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    prefix = "acme/tiny-embed/1.0.0"
    marker = land(ingest_settings, "landing", f"{prefix}/_COMPLETE", json.dumps({"files": files}).encode())
    records = {f: land(ingest_settings, "landing", f"{prefix}/{f}", (folder / f).read_bytes()) for f in files}
    # the marker first, then the files in reverse order, one of them twice
    notify(client, marker)
    notify(client, *[records[f] for f in reversed(files[1:])])
    model = wait_model(client, "tiny-embed")
    assert model["status"] == "uploading"  # config.json (files[0]) has not landed yet
    notify(client, records[files[0]], records[files[0]])
    done = wait_for_status(client, model["id"], {"ready", "error"}, timeout=60)
    assert done["status"] == "ready", done["validationError"]
    assert done["format"] == "directory" and done["architecture"] == "llama"
    listed = client.get(f"/v1/models/{model['id']}/files").json()["files"]
    assert sorted(f["path"] for f in listed) == files
    assert {f["path"]: f["sha256"] for f in listed}["model.safetensors"] == hashlib.sha256(
        (folder / "model.safetensors").read_bytes()
    ).hexdigest()
    # a late duplicate after completion changes nothing
    notify(client, records[files[0]], marker)
    events = client.get(f"/v1/models/{model['id']}/events").json()["events"]
    assert [e["to"] for e in events] == ["uploading", "validating", "ready"]


def test_ingest_task_enqueued_by_any_producer(api, upload_worker, ingest_settings, tmp_path):
    from xerotier.queue import outbox

    client, runtime = api
    folder = write_hf_folder(tmp_path / "hf")
    records = [
        land(
            ingest_settings,
            "landing",
            f"acme/queued/2.0.0/{p.relative_to(folder).as_posix()}",
            p.read_bytes(),
        )
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    ]
    records.append(land(ingest_settings, "landing", "acme/queued/2.0.0/_COMPLETE", b""))
    with runtime.unit_of_work() as session:
        outbox.enqueue(session, names.UPLOAD_INGEST_EVENT, event={"Records": records})
    import time

    deadline = time.monotonic() + 60
    while (found := model_named(client, "queued", "2.0.0")) is None or found["status"] == "uploading":
        assert time.monotonic() < deadline, found
        time.sleep(0.1)
    assert wait_for_status(client, found["id"], {"ready", "error"})["status"] == "ready"


def test_bad_bucket_notifications_are_400(api):
    client, _ = api
    for body, message in [
        ({"nope": 1}, "expected an object with a 'Records' list"),
        ({"Records": [{"eventName": "s3:ObjectCreated:Put"}]}, "needs 'eventName' and 's3'"),
        (
            {"Records": [{"eventName": "s3:ObjectCreated:Put", "s3": {"bucket": {"name": "B/../x"}}}]},
            "s3.bucket.name is missing or not a valid bucket name",
        ),
    ]:
        response = client.post("/v1/upload-events", json=body)
        assert response.status_code == 400
        assert message in response.json()["error"]["message"]


def test_foreign_project_and_traversal_keys_are_rejected(ingest_settings, api):
    from xerotier.upload.ingest import ingest_notification

    _, runtime = api
    secret = ingest_settings.ingest_root / "landing" / "secret.bin"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_bytes(b"not yours")
    doc = {
        "Records": [
            land(ingest_settings, "landing", "someone-else/m/1.0.0/a.bin", b"x"),
            {
                "eventName": "s3:ObjectCreated:Put",
                "s3": {"bucket": {"name": "landing"}, "object": {"key": "acme/m/1.0.0/..%2Fsecret.bin"}},
            },
        ]
    }
    with runtime.session_factory() as session:
        from xerotier.db.models import Project

        acme = session.query(Project).filter_by(slug="acme").one()
    outcomes = ingest_notification(runtime, doc, project_id=acme.id)
    assert [(o.result, o.detail) for o in outcomes] == [
        ("rejected", "Project 'someone-else' not found"),
        ("rejected", "Invalid file path: '..' is not allowed"),
    ]


def test_hub_import_pins_the_commit_and_ends_ready(api, upload_worker, hub_cache, tmp_path):
    client, _ = api
    folder = write_hf_folder(tmp_path / "hf")
    add_to_hub_cache(hub_cache, "acme-org/tiny-embed", folder, COMMIT)
    started = client.post(
        "/v1/models/import", json={"repo": "acme-org/tiny-embed", "workloadType": "embedding"}
    )
    assert started.status_code == 202, started.text
    body = started.json()
    assert body["status"] == "uploading" and body["name"] == "tiny-embed"
    assert body["source"] == {"kind": "hub", "repo": "acme-org/tiny-embed", "revision": "main"}
    done = wait_for_status(client, body["id"], {"ready", "error"}, timeout=60)
    assert done["status"] == "ready", done["validationError"]
    assert done["workloadType"] == "embedding" and done["format"] == "directory"
    listed = client.get(f"/v1/models/{body['id']}/files").json()["files"]
    assert "1_Pooling/config.json" in {f["path"] for f in listed}
    from xerotier.db.models import Model

    _, runtime = api
    with runtime.session_factory() as session:
        assert session.get(Model, __import__("uuid").UUID(body["id"])).source["commit"] == COMMIT


def test_hub_import_of_a_missing_revision_ends_in_error(api, upload_worker, hub_cache, tmp_path):
    client, _ = api
    add_to_hub_cache(hub_cache, "acme-org/tiny-embed", write_hf_folder(tmp_path / "hf"), COMMIT)
    started = client.post("/v1/models/import", json={"repo": "acme-org/tiny-embed@v9", "name": "v9"})
    assert started.status_code == 202, started.text
    done = wait_for_status(client, started.json()["id"], {"ready", "error"}, timeout=60)
    assert done["status"] == "error"
    assert done["validationError"] == (
        "Hub import failed: acme-org/tiny-embed@v9 is not in the local Hub cache and the Hub cannot be "
        "reached (HF_HUB_OFFLINE?)"
    )


@pytest.mark.parametrize("repo", ["no-slash", "../etc/passwd", "a/b/c", "org/name@..", "org/na me"])
def test_hub_import_rejects_bad_repository_names(api, repo):
    client, _ = api
    response = client.post("/v1/models/import", json={"repo": repo})
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(
        ("Invalid Hugging Face repository", "Invalid revision")
    )
