"""The upload service's bad-input table on PostgreSQL: a clear 4xx, and nothing is stored."""

from __future__ import annotations

import base64
import hashlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from xerotier.db.models import Blob, ModelFile
from xerotier.gateway.app import create_app
from xerotier.runtime import Runtime

pytestmark = pytest.mark.integration


def stored_blobs(runtime: Runtime) -> list[Path]:
    return [p for p in (runtime.blobs.root / "sha256").rglob("*") if p.is_file()]


def leftovers(runtime: Runtime) -> list[Path]:
    return list(runtime.blobs.tmp_dir.iterdir())


def assert_nothing_stored(runtime: Runtime) -> None:
    assert stored_blobs(runtime) == []
    assert leftovers(runtime) == []
    with runtime.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(ModelFile)) == 0
        assert session.scalar(select(func.count()).select_from(Blob)) == 0


def new_model(client: TestClient, **fields) -> str:
    created = client.post("/v1/models", json={"name": "m", **fields})
    assert created.status_code == 201, created.text
    return created.json()["id"]


def error_of(response) -> str:
    body = response.json()
    assert set(body) == {"error"} and body["error"]["type"]
    return body["error"]["message"]


BAD_PATHS = [
    ("a/%2E%2E/b.bin", "'..' is not allowed"),
    ("%2e%2e/escape.bin", "'..' is not allowed"),
    ("%2Fetc/passwd", "must be relative to the model"),
    ("C:%5Cweights.bin", "contains a backslash"),
    ("..%5C..%5Cweights.bin", "contains a backslash"),
    ("a%00.bin", "contains a NUL byte"),
    ("a/%09/b.bin", "contains a control character"),
    ("a%7F.bin", "contains a control character"),
    ("a//b.bin", "empty or '.' folder name"),
    ("a/%2E/b.bin", "empty or '.' folder name"),
    ("dir/", "empty or '.' folder name"),
    ("x" * 256 + ".bin", "a name is longer than 255 characters"),
    ("/".join(["d" * 200] * 6), "longer than 1024 characters"),
]


@pytest.mark.parametrize(("raw", "reason"), BAD_PATHS, ids=[r for _, r in BAD_PATHS])
def test_bad_paths_are_rejected_and_store_nothing(pg_api, pg_runtime, raw, reason):
    model_id = new_model(pg_api)
    response = pg_api.put(f"/v1/models/{model_id}/files/{raw}", content=b"weights")
    assert response.status_code == 400, response.text
    assert reason in error_of(response)
    assert_nothing_stored(pg_runtime)


def test_digest_mismatch_is_rejected_and_stores_nothing(pg_api, pg_runtime):
    model_id = new_model(pg_api)
    body = b"weights" * 1000
    wrong = hashlib.sha256(b"other").hexdigest()
    response = pg_api.put(
        f"/v1/models/{model_id}/files/model.bin", content=body, headers={"Content-SHA256": wrong}
    )
    assert response.status_code == 400
    assert error_of(response).startswith(f"Digest mismatch: client sent sha256 {wrong}")
    wrong_b64 = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    response = pg_api.put(
        f"/v1/models/{model_id}/files/model.bin", content=body, headers={"Digest": f"sha-256={wrong_b64}"}
    )
    assert response.status_code == 400 and "Digest mismatch" in error_of(response)
    assert_nothing_stored(pg_runtime)


def test_matching_digest_is_accepted(pg_api, pg_runtime):
    model_id = new_model(pg_api)
    body = b"weights" * 1000
    right = base64.b64encode(hashlib.sha256(body).digest()).decode()
    response = pg_api.put(
        f"/v1/models/{model_id}/files/model.bin", content=body, headers={"Digest": f"sha-256={right}"}
    )
    assert response.status_code == 201
    assert response.json()["sha256"] == hashlib.sha256(body).hexdigest()
    assert response.json()["sizeBytes"] == 7000


@pytest.fixture
def small_limit_api(pg_runtime: Runtime) -> Iterator[TestClient]:
    """The same database and key, served by an app whose largest file is 1,000 bytes."""
    limited = Runtime(pg_runtime.settings.model_copy(update={"max_file_size": 1000}), [])
    from conftest import mint_key

    key = mint_key(limited, "limited")
    with TestClient(create_app(limited), raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        yield client
    limited.close()


def test_file_over_the_maximum_size_is_413_and_stores_nothing(small_limit_api, pg_runtime):
    model_id = new_model(small_limit_api)
    declared = small_limit_api.put(f"/v1/models/{model_id}/files/model.bin", content=b"x" * 1001)
    assert declared.status_code == 413
    assert error_of(declared) == "File exceeds the maximum size of 1000 bytes"

    def chunked():  # no Content-Length: the limit is enforced while streaming
        for _ in range(4):
            yield b"y" * 400

    streamed = small_limit_api.put(f"/v1/models/{model_id}/files/model.bin", content=chunked())
    assert streamed.status_code == 413
    assert_nothing_stored(pg_runtime)
    exact = small_limit_api.put(f"/v1/models/{model_id}/files/model.bin", content=b"z" * 1000)
    assert exact.status_code == 201


def test_upload_to_a_model_not_uploading_is_409(pg_api, pg_runtime):
    model_id = new_model(pg_api)
    assert pg_api.put(f"/v1/models/{model_id}/files/model.bin", content=b"w").status_code == 201
    assert pg_api.post(f"/v1/models/{model_id}/complete").status_code == 202
    late = pg_api.put(f"/v1/models/{model_id}/files/extra.bin", content=b"late bytes")
    assert late.status_code == 409
    assert error_of(late) == "Model is validating: files can only be uploaded while it is uploading"
    assert len(stored_blobs(pg_runtime)) == 1 and leftovers(pg_runtime) == []


def test_unknown_and_malformed_model_ids(pg_api, pg_runtime):
    missing = pg_api.put("/v1/models/00000000-0000-0000-0000-000000000000/files/a.bin", content=b"w")
    assert missing.status_code == 404 and error_of(missing) == "Model not found"
    malformed = pg_api.put("/v1/models/not-a-uuid@/files/a.bin", content=b"w")
    assert malformed.status_code == 400 and error_of(malformed) == "Invalid model ID"
    assert_nothing_stored(pg_runtime)


def test_complete_without_files_is_400(pg_api):
    model_id = new_model(pg_api)
    response = pg_api.post(f"/v1/models/{model_id}/complete")
    assert response.status_code == 400
    assert error_of(response) == "Model has no files: upload at least one file before completing"
    assert pg_api.get(f"/v1/models/{model_id}").json()["status"] == "uploading"


@pytest.mark.parametrize(
    ("fmt", "files", "message"),
    [
        ("bin", ["model.safetensors"], "Format is bin but no .bin, .pt or .pth file was uploaded"),
        ("safetensors", ["pytorch_model.bin"], "Format is safetensors but no .safetensors file was uploaded"),
        ("exl2", ["config.json"], "Format is exl2 but no .safetensors file was uploaded"),
        (
            "directory",
            ["config.json", "sub/readme.md"],
            "Format is directory but the folder holds no .safetensors, .bin, .pt or .pth file",
        ),
        (
            None,
            ["model-00001-of-00002.safetensors", "model.safetensors.index.json"],
            "Sharded safetensors are incomplete: missing model-00002-of-00002.safetensors",
        ),
        (None, ["README.md"], "Cannot tell the model's format from its files"),
        (
            None,
            ["model-Q4_K_M.gguf", "README.md"],
            "Cannot tell the model's format from its files: GGUF (.gguf) is not a supported format",
        ),
    ],
)
def test_format_that_does_not_match_the_files_is_400(pg_api, fmt, files, message):
    model_id = new_model(pg_api, **({"format": fmt} if fmt else {}))
    for path in files:
        assert pg_api.put(f"/v1/models/{model_id}/files/{path}", content=path.encode()).status_code == 201
    response = pg_api.post(f"/v1/models/{model_id}/complete")
    assert response.status_code == 400
    assert error_of(response).startswith(message)
    assert pg_api.get(f"/v1/models/{model_id}").json()["status"] == "uploading"


def test_resending_a_file_replaces_it_and_releases_the_old_blob(pg_api, pg_runtime):
    model_id = new_model(pg_api)
    first = pg_api.put(f"/v1/models/{model_id}/files/model.bin", content=b"first").json()
    second = pg_api.put(f"/v1/models/{model_id}/files/model.bin", content=b"second").json()
    files = pg_api.get(f"/v1/models/{model_id}/files").json()["files"]
    assert [(f["path"], f["sha256"]) for f in files] == [("model.bin", second["sha256"])]
    with pg_runtime.session_factory() as session:
        counts = dict(session.execute(select(Blob.sha256, Blob.refcount)).all())
    assert counts == {first["sha256"]: 0, second["sha256"]: 1}


@pytest.fixture
def live_server(pg_runtime: Runtime) -> Iterator[tuple[int, str]]:
    """The real app on a real socket (uvicorn), so a client can hang up mid-body."""
    from conftest import free_port, mint_key

    key = mint_key(pg_runtime, "live")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(pg_runtime), port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield port, key
    server.should_exit = True
    thread.join(timeout=15)


def test_client_disconnect_leaves_no_partial_blob_and_no_file(live_server, pg_runtime):
    import httpx

    port, key = live_server
    auth = {"Authorization": f"Bearer {key}"}
    base = f"http://127.0.0.1:{port}"
    model_id = httpx.post(f"{base}/v1/models", json={"name": "cut"}, headers=auth).json()["id"]
    with socket.create_connection(("127.0.0.1", port)) as sock:
        head = (
            f"PUT /v1/models/{model_id}/files/model.bin HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {key}\r\nContent-Length: {64 << 20}\r\n\r\n"
        )
        sock.sendall(head.encode())
        sock.sendall(b"\x01" * (8 << 20))  # an eighth of the promised body, then hang up
        deadline = time.monotonic() + 10
        while not leftovers(pg_runtime) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert leftovers(pg_runtime), "the server never started spooling the body"
    deadline = time.monotonic() + 20
    while leftovers(pg_runtime) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert_nothing_stored(pg_runtime)
    files = httpx.get(f"http://127.0.0.1:{port}/v1/models/{model_id}/files", headers=auth).json()
    assert files == {"files": []}
