"""Many small files in one request (``POST /v1/models/{id}/files``, a tar body) on SQLite and
PostgreSQL: stored and recorded like single PUTs, replaced files release their blobs, bad batches
are specific 4xx and attach nothing."""

from __future__ import annotations

import hashlib
import io
import tarfile
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import mint_key
from xerotier.db.models import Blob
from xerotier.gateway.app import create_app
from xerotier.runtime import Runtime

pytestmark = pytest.mark.integration
TAR = {"Content-Type": "application/x-tar"}


@pytest.fixture(params=["sqlite", "postgresql"])
def runtime(request) -> Runtime:
    return request.getfixturevalue("pg_runtime" if request.param == "postgresql" else "sqlite_runtime")


@pytest.fixture
def api(runtime: Runtime) -> Iterator[TestClient]:
    key = mint_key(runtime)
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        yield client


def tar_of(files: dict[str, bytes], links: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for name in links:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            archive.addfile(info)
    return buffer.getvalue()


def new_model(api: TestClient) -> str:
    response = api.post("/v1/models", json={"name": "batched"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_a_batch_stores_every_file_and_replaces_earlier_ones(api, runtime):
    model_id = new_model(api)
    first = {f"tok/{i:03d}.txt": f"file {i}".encode() for i in range(300)}
    first["config.json"] = b"{}"
    response = api.post(f"/v1/models/{model_id}/files", content=tar_of(first), headers=TAR)
    assert response.status_code == 201, response.text
    rows = {r["path"]: r for r in response.json()["files"]}
    assert set(rows) == set(first)
    assert all(rows[p]["sha256"] == hashlib.sha256(d).hexdigest() for p, d in first.items())
    assert rows["config.json"]["sizeBytes"] == 2
    replaced = api.post(
        f"/v1/models/{model_id}/files", content=tar_of({"config.json": b'{"a":1}'}), headers=TAR
    )
    assert replaced.status_code == 201, replaced.text
    listed = {f["path"]: f for f in api.get(f"/v1/models/{model_id}/files").json()["files"]}
    assert len(listed) == 301 and listed["config.json"]["sha256"] == hashlib.sha256(b'{"a":1}').hexdigest()
    with runtime.session_factory() as session:
        old = session.scalar(select(Blob).where(Blob.sha256 == hashlib.sha256(b"{}").hexdigest()))
    assert old is not None and old.refcount == 0  # released by the replacement
    with runtime.blobs.open(listed["tok/007.txt"]["sha256"]) as stored:
        assert stored.read() == b"file 7"


@pytest.mark.parametrize(
    ("body", "headers", "status", "message"),
    [
        (b"not a tar at all" * 64, TAR, 400, "not a valid tar stream"),
        (tar_of({"../escape.txt": b"x"}), TAR, 400, "Invalid file path"),
        (tar_of({"ok.txt": b"x"}, links=("link.txt",)), TAR, 400, "is not a regular file"),
        (tar_of({}), TAR, 400, "Batch holds no files"),
        (tar_of({"a.txt": b"x"}), {"Content-Type": "application/octet-stream"}, 400, "application/x-tar"),
    ],
)
def test_bad_batches_are_specific_4xx_and_attach_nothing(api, body, headers, status, message):
    model_id = new_model(api)
    response = api.post(f"/v1/models/{model_id}/files", content=body, headers=headers)
    assert response.status_code == status, response.text
    assert message in response.json()["error"]["message"]
    assert api.get(f"/v1/models/{model_id}/files").json()["files"] == []


def test_a_batch_after_complete_is_a_conflict(api):
    model_id = new_model(api)
    batch = tar_of({"model.safetensors": b"\x02\x00\x00\x00\x00\x00\x00\x00{}"})
    assert api.post(f"/v1/models/{model_id}/files", content=batch, headers=TAR).status_code == 201
    assert api.post(f"/v1/models/{model_id}/complete").status_code == 202
    late = api.post(f"/v1/models/{model_id}/files", content=tar_of({"late.txt": b"x"}), headers=TAR)
    assert late.status_code == 409 and "files can only be uploaded while it is uploading" in late.text
