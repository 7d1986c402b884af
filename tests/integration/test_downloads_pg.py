"""File downloads and addressing by name over HTTP on PostgreSQL (the real app, database, blobs)."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from xerotier.db.models import Model
from xerotier.db.transitions import apply_transition
from xerotier.domain.lifecycle import LifecycleEvent, ModelStatus

pytestmark = pytest.mark.integration
WEIGHTS = bytes(range(256)) * 4096 + b"tail"  # 1 MiB + 4 bytes: several chunks, an odd end
CONFIG = b'{"model_type": "llama"}'


def new_model(api, name: str, **body) -> dict:
    response = api.post("/v1/models", json={"name": name, **body})
    assert response.status_code == 201, response.text
    return response.json()


def new_version(api, model_ref: str, version: str) -> dict:
    response = api.post(f"/v1/models/{model_ref}/versions", json={"version": version})
    assert response.status_code == 201, response.text
    return response.json()


def make_ready(runtime, model_id: str) -> None:
    """Ready through the real compare-and-set transitions (no validation run needed here)."""
    mid = uuid.UUID(model_id)
    with runtime.unit_of_work() as session:
        status = session.get(Model, mid).status
        if status == ModelStatus.UPLOADING:
            assert apply_transition(session, mid, status, LifecycleEvent.COMPLETE)
        assert apply_transition(session, mid, ModelStatus.VALIDATING, LifecycleEvent.VALIDATION_PASSED)


def upload(api, model_id: str, files: dict[str, bytes]) -> None:
    for path, content in files.items():
        assert api.put(f"/v1/models/{model_id}/files/{path}", content=content).status_code == 201


def test_get_and_head_stream_the_bytes_with_their_digest(pg_api):
    model = new_model(pg_api, "dl-tiny")
    upload(pg_api, model["id"], {"model.safetensors": WEIGHTS, "sub/config.json": CONFIG})
    digest = hashlib.sha256(WEIGHTS).hexdigest()
    got = pg_api.get(f"/v1/models/{model['id']}/files/model.safetensors")
    assert got.status_code == 200 and got.content == WEIGHTS
    assert got.headers["etag"] == f'"{digest}"' and got.headers["accept-ranges"] == "bytes"
    assert got.headers["content-length"] == str(len(WEIGHTS))
    head = pg_api.head(f"/v1/models/{model['id']}/files/model.safetensors")
    assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == f'"{digest}"'
    assert head.headers["content-length"] == str(len(WEIGHTS))
    assert pg_api.get("/v1/models/dl-tiny/files/sub/config.json").content == CONFIG
    scoped = pg_api.get("/test/v1/models/dl-tiny@1.0.0/files/sub/config.json")
    assert scoped.status_code == 200 and scoped.content == CONFIG


def test_ranges_and_conditional_requests(pg_api):
    model = new_model(pg_api, "dl-range")
    upload(pg_api, model["id"], {"w.bin": WEIGHTS})
    url = f"/v1/models/{model['id']}/files/w.bin"
    part = pg_api.get(url, headers={"Range": "bytes=1000-"})
    assert part.status_code == 206 and part.content == WEIGHTS[1000:]
    assert part.headers["content-range"] == f"bytes 1000-{len(WEIGHTS) - 1}/{len(WEIGHTS)}"
    middle = pg_api.get(url, headers={"Range": "bytes=10-19"})
    assert middle.status_code == 206 and middle.content == WEIGHTS[10:20]
    suffix = pg_api.get(url, headers={"Range": "bytes=-4"})
    assert suffix.status_code == 206 and suffix.content == b"tail"
    multi = pg_api.get(url, headers={"Range": "bytes=0-1,5-6"})
    assert multi.status_code == 200 and multi.content == WEIGHTS
    past = pg_api.get(url, headers={"Range": f"bytes={len(WEIGHTS)}-"})
    assert past.status_code == 416 and "error" in past.json()
    etag = part.headers["etag"]
    assert pg_api.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert pg_api.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    stale = pg_api.get(url, headers={"Range": "bytes=0-9", "If-Range": '"other"'})
    assert stale.status_code == 200 and stale.content == WEIGHTS


def test_missing_files_and_foreign_models_are_404(pg_api, pg_runtime):
    from conftest import mint_key

    model = new_model(pg_api, "dl-mine")
    upload(pg_api, model["id"], {"w.bin": b"mine"})
    missing = pg_api.get(f"/v1/models/{model['id']}/files/nope.bin")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "File 'nope.bin' not found in model 'dl-mine' version 1.0.0"
    other = {"Authorization": f"Bearer {mint_key(pg_runtime, 'other')}"}
    for ref in (model["id"], "dl-mine", "dl-mine@1.0.0"):
        foreign = pg_api.get(f"/v1/models/{ref}/files/w.bin", headers=other)
        assert foreign.status_code == 404 and foreign.json()["error"]["message"] == "Model not found"
    assert pg_api.get("/v1/models/dl-mine/files/..%2Fx").status_code in (400, 404)
    assert pg_api.get("/v1/models/dl-mine@9.9.9/files/w.bin").json()["error"]["message"] == (
        "Version 9.9.9 of model 'dl-mine' not found"
    )


def test_names_with_a_slash_and_every_selector(pg_api, pg_runtime):
    name = "meta-llama/Llama-3.1-8B"
    v1 = new_model(pg_api, name)
    upload(pg_api, v1["id"], {"w.bin": b"one"})
    make_ready(pg_runtime, v1["id"])
    v2 = new_version(pg_api, v1["id"], "2.0.0")
    upload(pg_api, v2["id"], {"w.bin": b"two"})
    make_ready(pg_runtime, v2["id"])
    encoded = "meta-llama%2FLlama-3.1-8B"
    assert pg_api.get(f"/v1/models/{encoded}/files/w.bin").content == b"one"  # latest is still 1.0.0
    assert pg_api.get(f"/v1/models/{encoded}@latest/files/w.bin").content == b"one"
    assert pg_api.get(f"/v1/models/{encoded}@2.0.0/files/w.bin").content == b"two"
    assert pg_api.get(f"/v1/models/{encoded}%402.0.0/files/w.bin").content == b"two"
    promoted = pg_api.post(f"/v1/models/{encoded}/versions/2.0.0/promote")
    assert promoted.status_code == 200, promoted.text
    assert pg_api.get(f"/v1/models/{encoded}/files/w.bin").content == b"two"
    versions = pg_api.get(f"/v1/models/{encoded}/versions").json()["versions"]
    assert [v["version"] for v in versions] == ["2.0.0", "1.0.0"]
    assert pg_api.get(f"/test/v1/models/{encoded}@1.0.0").json()["id"] == v1["id"]


def test_model_operations_survive_deleting_any_version(pg_api, pg_runtime):
    ids = []
    first = new_model(pg_api, "lineage")
    make_ready(pg_runtime, first["id"])
    ids.append(first["id"])
    for version in ("2.0.0", "3.0.0"):
        created = new_version(pg_api, ids[-1], version)
        make_ready(pg_runtime, created["id"])
        ids.append(created["id"])
    middle = pg_api.get("/v1/models/lineage@2.0.0").json()
    assert pg_api.delete(f"/v1/models/{middle['id']}").status_code == 200
    with pg_runtime.session_factory() as session:
        third = session.get(Model, uuid.UUID(ids[2]))
        assert str(third.parent_version_id) == ids[0]  # lineage re-pointed, not lost
    assert pg_api.delete(f"/v1/models/{ids[0]}?force=true").status_code == 200  # the latest
    assert [v["version"] for v in pg_api.get("/v1/models/lineage/versions").json()["versions"]] == ["3.0.0"]
    assert pg_api.get(f"/v1/models/{ids[0]}").status_code == 404
    assert pg_api.get("/v1/models/lineage/versions/history").status_code == 200
    assert pg_api.get("/v1/models/lineage").json()["version"] == "3.0.0"
