"""The BlobStore contract on both backends: a local directory and a real S3-compatible server."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from fastapi.testclient import TestClient

from conftest import free_port, mint_key
from support.processes import ManagedProcess, start_worker, wait_for_status
from support.s3_server import CREDENTIALS, start_s3_server
from xerotier.db.migrate import upgrade
from xerotier.errors import InvalidInput, PayloadTooLarge
from xerotier.gateway.app import create_app
from xerotier.runtime import Runtime, set_runtime
from xerotier.settings import Settings
from xerotier.storage.blobs import BlobStore, LocalBlobStore
from xerotier.storage.factory import make_blob_store

pytestmark = pytest.mark.integration


@pytest.fixture
def s3_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ManagedProcess]:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    proc = start_s3_server(free_port(), tmp_path / "moto.log")
    yield proc
    proc.stop()


def make_bucket(url: str) -> str:
    bucket = f"blobs-{secrets.token_hex(4)}"
    boto3.client("s3", endpoint_url=url).create_bucket(Bucket=bucket)
    return bucket


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    server = request.getfixturevalue("s3_server")
    settings = Settings(
        data_dir=tmp_path / "data",
        blob_store="s3",
        s3_bucket=make_bucket(server.url),
        s3_prefix="registry/",
        s3_endpoint_url=server.url,
    )
    return make_blob_store(settings)


def put(store: BlobStore, data: bytes, expected: str | None = None):  # type: ignore[no-untyped-def]
    writer = store.writer(max_size=1 << 20)
    for i in range(0, len(data), 1000):
        writer.write(data[i : i + 1000])
    return writer.commit(expected)


def test_blobs_are_keyed_by_sha256_and_stored_once(store):
    data = secrets.token_bytes(5000)
    first = put(store, data)
    assert first.sha256 == hashlib.sha256(data).hexdigest() and first.size == 5000 and first.created
    again = put(store, data)
    assert again.sha256 == first.sha256 and not again.created
    with store.open(first.sha256) as stream:
        assert stream.read() == data
    assert [sha for sha, _ in store.iter_blobs()] == [first.sha256]
    assert 0 <= store.age_seconds(first.sha256) < 600
    store.delete(first.sha256)
    assert not store.exists(first.sha256) and store.age_seconds(first.sha256) is None


def test_digest_mismatch_and_oversize_store_nothing(store):
    with pytest.raises(InvalidInput, match="Digest mismatch"):
        put(store, b"abc", expected="0" * 64)
    with pytest.raises(PayloadTooLarge):
        put(store, b"x" * ((1 << 20) + 1))
    assert list(store.iter_blobs()) == []
    assert list(Path(store.tmp_dir).iterdir()) == []


def test_digests_are_never_trusted_as_paths(store):
    for bad in ("../../etc/passwd", "A" * 64, "0" * 63):
        with pytest.raises(InvalidInput):
            store.exists(bad)


@pytest.fixture
def s3_runtime(pg_settings: Settings, s3_server: ManagedProcess) -> Iterator[Runtime]:
    settings = pg_settings.model_copy(
        update={"blob_store": "s3", "s3_bucket": make_bucket(s3_server.url), "s3_endpoint_url": s3_server.url}
    )
    runtime = Runtime(settings, [])
    upgrade(runtime.engine)
    set_runtime(runtime)
    yield runtime
    set_runtime(None)


def test_upload_validates_from_the_s3_backend(s3_runtime, tmp_path, tiny_checkpoint):
    worker = start_worker(s3_runtime.settings, ["upload", "validation", "catalog"], tmp_path / "worker.log")
    try:
        key = mint_key(s3_runtime)
        with TestClient(create_app(s3_runtime), raise_server_exceptions=False) as client:
            client.headers["Authorization"] = f"Bearer {key}"
            model_id = client.post("/v1/models", json={"name": "on-s3"}).json()["id"]
            for path in sorted(tiny_checkpoint.iterdir()):
                put_file = client.put(f"/v1/models/{model_id}/files/{path.name}", content=path.read_bytes())
                assert put_file.status_code == 201, put_file.text
            assert client.post(f"/v1/models/{model_id}/complete").status_code == 202
            done = wait_for_status(client, model_id, {"ready", "error"}, timeout=60)
        assert done["status"] == "ready", done["validationError"]
        listed = boto3.client("s3", endpoint_url=s3_runtime.settings.s3_endpoint_url).list_objects_v2(
            Bucket=s3_runtime.settings.s3_bucket
        )
        assert len(listed["Contents"]) == 2  # config.json and model.safetensors, by digest
    finally:
        worker.stop()


def test_upload_events_read_objects_from_an_s3_endpoint(s3_runtime, tmp_path, tiny_checkpoint):
    """Bucket events whose objects live in a real S3-compatible server (no local mirror)."""
    from xerotier.upload.ingest import ingest_notification

    key = mint_key(s3_runtime, "acme")
    assert key
    s3 = boto3.client("s3", endpoint_url=s3_runtime.settings.s3_endpoint_url)
    s3.create_bucket(Bucket="landing")
    records = []
    for path in sorted(tiny_checkpoint.iterdir()):
        s3.put_object(Bucket="landing", Key=f"acme/from-s3/1.0.0/{path.name}", Body=path.read_bytes())
        records.append(
            {
                "eventName": "s3:ObjectCreated:Put",
                "s3": {"bucket": {"name": "landing"}, "object": {"key": f"acme/from-s3/1.0.0/{path.name}"}},
            }
        )
    s3.put_object(Bucket="landing", Key="acme/from-s3/1.0.0/_COMPLETE", Body=b"")
    marker = {
        "eventName": "s3:ObjectCreated:Put",
        "s3": {"bucket": {"name": "landing"}, "object": {"key": "acme/from-s3/1.0.0/_COMPLETE"}},
    }
    gone = {
        "eventName": "s3:ObjectCreated:Put",
        "s3": {"bucket": {"name": "landing"}, "object": {"key": "acme/from-s3/1.0.0/deleted.bin"}},
    }
    outcomes = ingest_notification(s3_runtime, {"Records": [gone, *records, marker]})
    assert [o.result for o in outcomes] == ["missing", "recorded", "recorded", "completed"]
    from xerotier.db.models import Model

    with s3_runtime.session_factory() as session:
        model = session.get(Model, __import__("uuid").UUID(outcomes[-1].model_id))
        assert model.status == "validating" and model.format == "safetensors"
        assert model.source["bucket"] == "landing"
