"""Downloads from the S3 backend (a real S3-compatible server, moto): streamed with ranges through
the gateway, or with ``download_redirect`` a 307 to a presigned URL that serves the same bytes."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import boto3
import httpx
import pytest
from fastapi.testclient import TestClient

from conftest import free_port, mint_key
from support.processes import ManagedProcess
from support.s3_server import CREDENTIALS, start_s3_server
from xerotier.db.migrate import upgrade
from xerotier.gateway.app import create_app
from xerotier.runtime import Runtime, set_runtime
from xerotier.settings import Settings

pytestmark = pytest.mark.integration
WEIGHTS = bytes(range(256)) * 5000


@pytest.fixture
def s3_server(tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ManagedProcess]:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    proc = start_s3_server(free_port(), tmp_path / "moto.log")
    yield proc
    proc.stop()


@pytest.fixture
def s3_settings(pg_settings: Settings, s3_server: ManagedProcess) -> Settings:
    bucket = f"blobs-{secrets.token_hex(4)}"
    boto3.client("s3", endpoint_url=s3_server.url).create_bucket(Bucket=bucket)
    return pg_settings.model_copy(
        update={"blob_store": "s3", "s3_bucket": bucket, "s3_endpoint_url": s3_server.url}
    )


def client_for(settings: Settings, key: str | None = None) -> tuple[TestClient, str]:
    runtime = Runtime(settings, [])
    upgrade(runtime.engine)
    set_runtime(runtime)
    key = key or mint_key(runtime)
    client = TestClient(create_app(runtime), raise_server_exceptions=False, follow_redirects=False)
    client.headers["Authorization"] = f"Bearer {key}"
    return client, key


def test_streamed_and_redirected_downloads(s3_settings):
    client, key = client_for(s3_settings)
    with client:
        model = client.post("/v1/models", json={"name": "on-s3"}).json()
        assert client.put(f"/v1/models/{model['id']}/files/w.bin", content=WEIGHTS).status_code == 201
        whole = client.get("/v1/models/on-s3/files/w.bin")
        assert whole.status_code == 200 and whole.content == WEIGHTS
        part = client.get("/v1/models/on-s3/files/w.bin", headers={"Range": "bytes=1000-1999"})
        assert part.status_code == 206 and part.content == WEIGHTS[1000:2000]
    redirecting, _ = client_for(s3_settings.model_copy(update={"download_redirect": True}), key)
    with redirecting:
        moved = redirecting.get("/v1/models/on-s3/files/w.bin")
        assert moved.status_code == 307 and moved.headers["etag"].startswith('"')
        location = moved.headers["location"]
        assert "Signature" in location or "X-Amz-Signature" in location
        assert httpx.get(location, timeout=30).content == WEIGHTS  # no registry key needed
        head = redirecting.head("/v1/models/on-s3/files/w.bin")
        assert head.status_code == 200 and head.headers["content-length"] == str(len(WEIGHTS))
    set_runtime(None)
