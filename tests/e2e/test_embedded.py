"""The embedded default as a user runs it: a real `xerotier up`, driven over HTTP and with xeroctl."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from support.checkpoints import tiny_parameter_count, write_many_tensor_safetensors
from support.processes import start_up, wait_for_status

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent


def client_for(proc) -> httpx.Client:
    return httpx.Client(base_url=proc.url, headers={"Authorization": f"Bearer {proc.api_key}"}, timeout=30)


def upload(client: httpx.Client, folder: Path, name: str) -> str:
    model = client.post("/v1/models", json={"name": name}).json()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        with path.open("rb") as body:
            put = client.put(
                f"/v1/models/{model['id']}/files/{path.relative_to(folder).as_posix()}", content=body
            )
        assert put.status_code == 201, put.text
    assert client.post(f"/v1/models/{model['id']}/complete").status_code == 202
    return model["id"]


def xeroctl(proc, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, XEROTIER_API_URL=proc.url, XEROTIER_API_KEY=proc.api_key)
    return subprocess.run([str(BIN / "xeroctl"), *args], env=env, capture_output=True, text=True, timeout=60)


def test_walking_skeleton_on_the_embedded_default(embedded, tiny_checkpoint):
    with client_for(embedded) as client:
        assert client.get("/readyz").json()["status"] == "ready"
        model_id = upload(client, tiny_checkpoint, "tiny-llama")
        model = wait_for_status(client, model_id, {"ready", "error"})
    assert model["status"] == "ready", model["validationError"]
    assert model["parameterCount"] == tiny_parameter_count()

    listed = xeroctl(embedded, "--output", "json", "models", "list")
    assert listed.returncode == 0, listed.stderr
    assert [m["id"] for m in json.loads(listed.stdout)] == [model_id]
    table = xeroctl(embedded, "models", "list")
    assert "tiny-llama" in table.stdout and "ready" in table.stdout
    got = xeroctl(embedded, "-o", "json", "models", "get", model_id)
    assert json.loads(got.stdout)["contextLength"] == 4096
    missing = xeroctl(embedded, "models", "get", "not-a-uuid")
    assert missing.returncode == 1 and "Model not found" in missing.stderr  # a name now


def test_sigkill_while_validating_then_restart_ends_ready(tmp_path):
    data_dir, port = tmp_path / "data", embedded_port()
    # ~600,000 tensors: over the default cap of 200,000, raised here so validation runs for seconds
    big = {"XEROTIER_MAX_SAFETENSORS_TENSORS": "1000000"}
    proc = start_up(data_dir, port, tmp_path / "up1.log", extra_env=big)
    folder = tmp_path / "big-header"
    folder.mkdir()
    # ~600,000 tensors: a header large enough that validation takes seconds.
    write_many_tensor_safetensors(folder / "model.safetensors", 600_000)
    with client_for(proc) as client:
        model_id = upload(client, folder, "slow")
        time.sleep(0.3)
    proc.kill()  # SIGKILL: no cleanup, the broker message may be lost

    db = sqlite3.connect(data_dir / "xerotier.db")
    status = db.execute(
        "SELECT status FROM models WHERE replace(id, '-', '') = ?", (model_id.replace("-", ""),)
    ).fetchone()[0]
    db.close()
    assert status == "validating", "precondition: the model must be mid-validation when killed"

    again = start_up(data_dir, port, tmp_path / "up2.log", extra_env=big, api_key=proc.api_key)
    try:
        with client_for(again) as client:
            model = wait_for_status(client, model_id, {"ready", "error"}, timeout=120)
            events = client.get(f"/v1/models/{model_id}/events").json()["events"]
    finally:
        again.stop()
    assert model["status"] == "ready", model["validationError"]
    assert model["parameterCount"] == 600_000
    moves = [(e["from"], e["to"]) for e in events if e["from"] != e["to"]]
    assert moves == [(None, "uploading"), ("uploading", "validating"), ("validating", "ready")]


def embedded_port() -> int:
    from conftest import free_port

    return free_port()
