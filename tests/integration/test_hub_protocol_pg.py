"""The Hugging Face Hub download protocol against a real ``xerotier serve`` on PostgreSQL + Redis,
driven by the real ``huggingface_hub`` client and ``hf`` CLI (``HF_ENDPOINT`` = the registry)."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import httpx
import pytest

from conftest import free_port
from support.hf_client import hf_call, hf_cli
from support.serve import mint_key, start_serve
from xerotier.db.transitions import apply_transition
from xerotier.domain.lifecycle import LifecycleEvent, ModelStatus
from xerotier.domain.model_ref import commit_of

pytestmark = pytest.mark.integration

FILES_V1 = {
    "config.json": b'{"model_type": "llama", "hidden_size": 64}',
    "model.safetensors": bytes(range(256)) * 8192 + b"v1",
    "tokenizer/tokenizer.json": b'{"version": "1.0"}',
}
FILES_V2 = {**FILES_V1, "model.safetensors": bytes(range(255, -1, -1)) * 8192 + b"v2"}


def make_ready(runtime, model_id: str) -> None:
    mid = uuid.UUID(model_id)
    with runtime.unit_of_work() as session:
        assert apply_transition(session, mid, ModelStatus.UPLOADING, LifecycleEvent.COMPLETE)
        assert apply_transition(session, mid, ModelStatus.VALIDATING, LifecycleEvent.VALIDATION_PASSED)


def put_all(client: httpx.Client, model_id: str, files: dict[str, bytes]) -> None:
    for path, content in files.items():
        assert client.put(f"/v1/models/{model_id}/files/{path}", content=content).status_code == 201


@pytest.fixture
def registry(pg_settings, pg_runtime, tmp_path):
    _, key = mint_key(pg_runtime, "acme")
    proc = start_serve(pg_settings, free_port(), tmp_path / "serve.log")
    client = httpx.Client(base_url=proc.url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    v1 = client.post("/v1/models", json={"name": "tiny"}).json()
    put_all(client, v1["id"], FILES_V1)
    make_ready(pg_runtime, v1["id"])
    v2 = client.post("/v1/models/tiny/versions", json={"version": "2.0.0"}).json()
    put_all(client, v2["id"], FILES_V2)
    make_ready(pg_runtime, v2["id"])
    org = client.post("/v1/models", json={"name": "meta-llama/Llama-tiny"}).json()
    put_all(client, org["id"], {"config.json": FILES_V1["config.json"]})
    yield proc.url, key, v1, v2, client
    client.close()
    proc.stop()


def same_tree(folder: Path, files: dict[str, bytes]) -> bool:
    got = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    got = {k: v for k, v in got.items() if not k.startswith(".cache/")}
    return got == files


def test_snapshot_download_by_semver_main_and_commit(registry, tmp_path):
    url, key, v1, v2, _ = registry
    home = tmp_path / "hf"
    latest = hf_call(url, key, home, "snapshot", repo_id="acme/tiny")
    assert same_tree(Path(latest["path"]), FILES_V1)  # main = the latest: still 1.0.0
    assert Path(latest["path"]).name == commit_of(uuid.UUID(v1["id"]))
    second = hf_call(url, key, home, "snapshot", repo_id="acme/tiny", revision="2.0.0")
    assert same_tree(Path(second["path"]), FILES_V2)
    pinned = hf_call(url, key, home, "snapshot", repo_id="acme/tiny", revision=commit_of(uuid.UUID(v2["id"])))
    assert pinned["path"] == second["path"]
    info = hf_call(url, key, home, "info", repo_id="acme/tiny", revision="2.0.0")
    assert info == {"sha": commit_of(uuid.UUID(v2["id"])), "id": "acme/tiny", "files": sorted(FILES_V2)}
    org = hf_call(url, key, home, "snapshot", repo_id="meta-llama/Llama-tiny")
    assert same_tree(Path(org["path"]), {"config.json": FILES_V1["config.json"]})


def test_hf_hub_download_headers_and_alias(registry, tmp_path):
    url, key, _, _, client = registry
    assert client.put("/v1/models/tiny/aliases/champion", json={"version": "2.0.0"}).status_code == 200
    one = hf_call(url, key, tmp_path / "hf", "file", repo_id="acme/tiny", filename="model.safetensors",
                  revision="champion")  # fmt: skip
    assert Path(one["path"]).read_bytes() == FILES_V2["model.safetensors"]
    head = client.head("/acme/tiny/resolve/main/tokenizer/tokenizer.json")
    digest = hashlib.sha256(FILES_V1["tokenizer/tokenizer.json"]).hexdigest()
    assert head.status_code == 200 and head.headers["x-linked-etag"] == f'"{digest}"'
    assert head.headers["x-linked-size"] == str(len(FILES_V1["tokenizer/tokenizer.json"]))
    assert head.headers["etag"] == f'"{digest}"' and len(head.headers["x-repo-commit"]) == 40
    ranged = client.get("/acme/tiny/resolve/2.0.0/model.safetensors", headers={"Range": "bytes=-2"})
    assert ranged.status_code == 206 and ranged.content == b"v2"


def test_missing_repo_revision_file_and_bad_key(registry, tmp_path):
    url, key, _, _, _ = registry
    home = tmp_path / "hf"
    assert hf_call(url, key, home, "info", repo_id="acme/nope")["error"] == "RepositoryNotFoundError"
    assert hf_call(url, key, home, "info", repo_id="other/tiny")["error"] == "RepositoryNotFoundError"
    missing_rev = hf_call(url, key, home, "snapshot", repo_id="acme/tiny", revision="9.9.9")
    assert missing_rev["error"] == "RevisionNotFoundError"
    missing_file = hf_call(url, key, home, "file", repo_id="acme/tiny", filename="nope.bin")
    assert missing_file["error"] == "RemoteEntryNotFoundError"
    bad = hf_call(url, "xero_acme_wrongsecret", home, "info", repo_id="acme/tiny")
    assert bad == {"error": "HfHubHTTPError", "status": 401}


def test_hf_cli_download(registry, tmp_path):
    url, key, *_ = registry
    target = tmp_path / "out"
    done = hf_cli(url, key, tmp_path / "hf", "download", "acme/tiny", "--revision", "2.0.0", "--local-dir",
                  str(target))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert same_tree(target, FILES_V2)
