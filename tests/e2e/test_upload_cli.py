"""`xeroctl models upload` against a real `xerotier up`: a Hugging Face folder ends ready; re-runs resume."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from support.hf_folders import write_hf_folder

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent


def xeroctl(proc, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, XEROTIER_API_URL=proc.url, XEROTIER_API_KEY=proc.api_key)
    return subprocess.run([str(BIN / "xeroctl"), *args], env=env, capture_output=True, text=True, timeout=180)


def api(proc) -> httpx.Client:
    return httpx.Client(base_url=proc.url, headers={"Authorization": f"Bearer {proc.api_key}"}, timeout=30)


def test_hf_directory_upload_ends_ready(embedded, tmp_path):
    folder = write_hf_folder(tmp_path / "tiny-embed")
    done = xeroctl(embedded, "-o", "json", "models", "upload", str(folder), "--wait", "--parallel", "3")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "total" in done.stderr  # the overall progress bar (rendered on stderr)
    model = json.loads(done.stdout)
    assert model["status"] == "ready", model["validationError"]
    assert model["name"] == "tiny-embed"
    assert model["format"] == "directory"
    assert model["architecture"] == "llama"
    assert model["sizeBytes"] == sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    with api(embedded) as client:
        files = client.get(f"/v1/models/{model['id']}/files").json()["files"]
    assert sorted(f["path"] for f in files) == sorted(
        p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()
    )
    assert "1_Pooling/config.json" in {f["path"] for f in files}


def test_rerun_skips_files_the_server_holds(embedded, tmp_path):
    folder = write_hf_folder(tmp_path / "resumed")
    with api(embedded) as client:
        model = client.post("/v1/models", json={"name": "resumed"}).json()
        body = (folder / "model.safetensors").read_bytes()
        put = client.put(f"/v1/models/{model['id']}/files/model.safetensors", content=body)
        assert put.status_code == 201
        # a stale copy of config.json: the re-run must replace it, not skip it
        stale = client.put(f"/v1/models/{model['id']}/files/config.json", content=b"{}")
        assert stale.status_code == 201
    total = sum(1 for p in folder.rglob("*") if p.is_file())
    done = xeroctl(embedded, "-o", "json", "models", "upload", str(folder), "--wait", "--no-progress")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{total - 1} file(s) sent, 1 already on the server" in done.stderr
    result = json.loads(done.stdout)
    assert result["id"] == model["id"] and result["status"] == "ready"
    assert result["contextLength"] == 4096  # the replaced config.json was read


def test_upload_wait_reports_validation_error(embedded, tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}......")
    done = xeroctl(embedded, "models", "upload", str(bad), "--name", "bad", "--wait", "--no-progress")
    assert done.returncode == 1
    assert "Error: model is error: bad.safetensors: header is not valid JSON" in done.stderr


def test_xeroctl_models_import_from_the_local_hub_cache(tmp_path):
    """`xeroctl models import org/name@revision --wait` against `xerotier up` running offline."""
    from conftest import free_port
    from support.hub_cache import add_to_hub_cache
    from support.processes import start_up

    cache = tmp_path / "hub"
    commit = "feedface" * 5
    add_to_hub_cache(cache, "acme/tiny-embed", write_hf_folder(tmp_path / "src"), commit, branch="v1")
    proc = start_up(
        tmp_path / "data",
        free_port(),
        tmp_path / "up.log",
        extra_env={"HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1"},
    )
    try:
        done = xeroctl(proc, "-o", "json", "models", "import", "acme/tiny-embed@v1", "--wait")
        assert done.returncode == 0, done.stdout + done.stderr
        model = json.loads(done.stdout)
        assert model["status"] == "ready" and model["name"] == "tiny-embed"
        assert model["format"] == "directory" and model["contextLength"] == 4096
        missing = xeroctl(proc, "models", "import", "acme/absent", "--name", "absent", "--wait")
        assert missing.returncode == 1
        assert "Hub import failed: acme/absent@main is not in the local Hub cache" in missing.stderr
    finally:
        proc.stop()


def test_small_files_in_batches_and_a_large_one_hashed_while_sent(embedded, tmp_path):
    """Hundreds of small files (sent as tar batches) and one file of several read blocks (hashed
    while it is sent): every digest is the file's; the bars count the true total once."""
    from rich.filesize import decimal

    folder = tmp_path / "mixed"
    write_hf_folder(folder)
    for i in range(300):
        (folder / "vocab" / f"{i:03d}.txt").parent.mkdir(exist_ok=True)
        (folder / "vocab" / f"{i:03d}.txt").write_bytes(os.urandom(100 + i))
    (folder / "big.bin").write_bytes(os.urandom((9 << 20) + 123))
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    done = xeroctl(embedded, "-o", "json", "models", "upload", str(folder), "--parallel", "3")
    assert done.returncode == 0, done.stdout + done.stderr
    count = sum(1 for p in folder.rglob("*") if p.is_file())
    assert f"{count} file(s) sent, 0 already on the server" in done.stderr
    number, unit = decimal(total).split()
    assert f"{number}/{number} {unit}" in done.stderr  # the true total, not twice the size
    assert "hashing" not in done.stderr  # nothing to resume: no separate hashing pass
    model = json.loads(done.stdout)
    with api(embedded) as client:
        files = {f["path"]: f for f in client.get(f"/v1/models/{model['id']}/files").json()["files"]}
    assert len(files) == count
    for path in folder.rglob("*"):
        if path.is_file():
            row = files[path.relative_to(folder).as_posix()]
            assert row["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_large_file_refused_mid_body_reports_the_servers_error(embedded, tmp_path):
    """The kernel-copied PUT (sendfile) reads the server's early answer, not a broken pipe."""
    from xerotier.client import upload as sdk
    from xerotier.client.http import ApiError, XerotierClient

    big = tmp_path / "late.bin"
    big.write_bytes(os.urandom((64 << 20) + 5))
    with XerotierClient(embedded.url, embedded.api_key) as client:
        model = client.create_model("closed")
        client.put_file(model["id"], "model.safetensors", b"\x02\x00\x00\x00\x00\x00\x00\x00{}")
        client.complete(model["id"])
        with pytest.raises(ApiError) as refused:
            sdk.send_file(client, model["id"], "late.bin", big)
    assert refused.value.status == 409
    assert "files can only be uploaded while it is uploading" in refused.value.message
