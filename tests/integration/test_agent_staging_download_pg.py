"""A remote agent stages files through the registry's download API (a real ``xerotier serve`` on
PostgreSQL), verifying every sha256: the staged folder is byte-identical, and a byte changed in
the stored blob fails the stage naming the file."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from conftest import free_port
from support.serve import mint_key, start_serve
from xerotier.agent.staging import FileRef, IntegrityFailure, registry_opener, stage

pytestmark = pytest.mark.integration
FILES = {"config.json": b'{"model_type": "llama"}', "sub/model.safetensors": bytes(range(256)) * 9000}


@pytest.fixture
def served(pg_settings, pg_runtime, tmp_path):
    _, key = mint_key(pg_runtime, "agents")
    proc = start_serve(pg_settings, free_port(), tmp_path / "serve.log")
    client = httpx.Client(base_url=proc.url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    model = client.post("/v1/models", json={"name": "remote"}).json()
    refs = []
    for path, content in FILES.items():
        assert client.put(f"/v1/models/{model['id']}/files/{path}", content=content).status_code == 201
        refs.append(FileRef(path, hashlib.sha256(content).hexdigest(), len(content)))
    yield client, model["id"], refs
    client.close()
    proc.stop()


def test_stage_through_the_download_api(served, tmp_path, pg_runtime):
    client, model_id, refs = served
    report = stage(registry_opener(client, model_id, refs), tmp_path / "cache", "load-1", refs)
    assert report.copied == 2 and report.bytes_verified == sum(len(v) for v in FILES.values())
    for path, content in FILES.items():
        assert (report.folder / path).read_bytes() == content

    blob = pg_runtime.blobs.path_for(refs[1].sha256)
    data = bytearray(blob.read_bytes())
    data[100] ^= 0xFF
    blob.write_bytes(bytes(data))
    with pytest.raises(IntegrityFailure, match=r"sub/model\.safetensors: sha256 mismatch"):
        stage(registry_opener(client, model_id, refs), tmp_path / "cache2", "load-2", refs)
