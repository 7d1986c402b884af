"""xeroctl's version and model-management commands against a real ``xerotier up`` (embedded default)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from support.checkpoints import LLAMA_TINY_CONFIG
from support.processes import wait_for_status

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent


def xeroctl(proc, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, XEROTIER_API_URL=proc.url, XEROTIER_API_KEY=proc.api_key, COLUMNS="200")
    return subprocess.run([str(BIN / "xeroctl"), *args], env=env, capture_output=True, text=True, timeout=60)


def ok_json(proc, *args: str):
    done = xeroctl(proc, "-o", "json", *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def put_dir(client: httpx.Client, model_id: str, folder: Path) -> None:
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        assert (
            client.put(f"/v1/models/{model_id}/files/{path.name}", content=path.read_bytes()).status_code
            == 201
        )
    assert client.post(f"/v1/models/{model_id}/complete").status_code == 202


def test_versions_commands_end_to_end(embedded, tiny_checkpoint, tmp_path):
    with httpx.Client(
        base_url=embedded.url, headers={"Authorization": f"Bearer {embedded.api_key}"}
    ) as client:
        model_id = client.post("/v1/models", json={"name": "tiny-llama"}).json()["id"]
        put_dir(client, model_id, tiny_checkpoint)
        assert wait_for_status(client, model_id, {"ready", "error"})["status"] == "ready"

        created = ok_json(
            embedded, "models", "versions", "create", model_id, "2.0.0", "--notes", "Improved accuracy"
        )
        assert created["version"] == "2.0.0" and created["versionNotes"] == "Improved accuracy"
        assert created["parentVersionId"] == model_id and created["status"] == "uploading"

        pending = xeroctl(embedded, "models", "versions", "promote", model_id, "2.0.0")
        assert pending.returncode == 0 and "pending" in pending.stdout
        v2 = tmp_path / "v2"
        v2.mkdir()
        (v2 / "model.safetensors").write_bytes((tiny_checkpoint / "model.safetensors").read_bytes())
        (v2 / "config.json").write_text(json.dumps({**LLAMA_TINY_CONFIG, "max_position_embeddings": 8192}))
        put_dir(client, created["id"], v2)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            listed = ok_json(embedded, "models", "versions", "list", model_id)
            if [v["version"] for v in listed if v["isLatest"]] == ["2.0.0"]:
                break
            time.sleep(0.2)
    assert [(v["version"], v["isLatest"], v["status"]) for v in listed] == [
        ("2.0.0", True, "ready"),
        ("1.0.0", False, "ready"),
    ]
    table = xeroctl(embedded, "models", "versions", "list", model_id)
    assert "2.0.0" in table.stdout and "Improved accuracy" in table.stdout

    back = xeroctl(embedded, "models", "versions", "rollback", model_id, "1.0.0")
    assert back.returncode == 0 and "1.0.0 is now the latest version of tiny-llama" in back.stdout
    history = ok_json(embedded, "models", "versions", "history", model_id)
    assert [(h["kind"], h["from"], h["to"]) for h in history] == [
        ("rollback", "2.0.0", "1.0.0"),
        ("promote", "1.0.0", "2.0.0"),
        ("first-ready", None, "1.0.0"),
    ]
    assert "rollback" in xeroctl(embedded, "models", "versions", "history", model_id).stdout

    diff = ok_json(embedded, "models", "versions", "diff", model_id, "1.0.0", "2.0.0")
    assert diff["metadata"] == {"contextLength": {"from": 4096, "to": 8192}}
    assert [c["path"] for c in diff["files"]["changed"]] == ["config.json"] and diff["files"][
        "unchanged"
    ] == 1
    assert diff["tensors"]["changed"] == [] and diff["tensors"]["headersAvailable"]
    table = xeroctl(embedded, "models", "versions", "diff", model_id, "1.0.0", "2.0.0")
    assert "metadata.contextLength" in table.stdout and "file config.json" in table.stdout

    wrong = xeroctl(embedded, "models", "versions", "create", model_id, "v3")
    assert wrong.returncode == 1 and "Error (400): Invalid version 'v3': drop the leading 'v'" in wrong.stderr
    dup = xeroctl(embedded, "models", "versions", "create", model_id, "2.0.0+rebuild")
    assert dup.returncode == 1 and "Error (409)" in dup.stderr

    renamed = ok_json(embedded, "models", "rename", model_id, "tiny-llama-renamed")
    assert renamed["name"] == "tiny-llama-renamed"
    updated = ok_json(embedded, "models", "update", created["id"], "--workload-type", "code", "--notes", "n2")
    assert (updated["workloadType"], updated["versionNotes"]) == ("code", "n2")
    code = ok_json(embedded, "models", "list", "--all-versions", "--workload-type", "code")
    assert [m["id"] for m in code] == [created["id"]]
    assert ok_json(embedded, "models", "list", "--name-prefix", "tiny-llama-r")[0]["version"] == "1.0.0"

    refused = xeroctl(embedded, "models", "delete", model_id)
    assert refused.returncode == 1 and "is the latest of 'tiny-llama-renamed'" in refused.stderr
    deleted = ok_json(embedded, "models", "delete", created["id"])
    assert [d["version"] for d in deleted["deleted"]] == ["2.0.0"]
    gone = ok_json(embedded, "models", "delete", model_id, "--all-versions")
    assert [d["version"] for d in gone["deleted"]] == ["1.0.0"]
    assert ok_json(embedded, "models", "list") == []
