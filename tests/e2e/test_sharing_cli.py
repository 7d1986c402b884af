"""Every sharing action as a user runs it: `xeroctl` and `xerotier` against a real `xerotier up`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from support.processes import wait_for_status

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent


def run(tool: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / tool), *args], env=dict(os.environ, **env), capture_output=True, text=True, timeout=60
    )


def upload(client: httpx.Client, folder: Path, name: str) -> str:
    model = client.post("/v1/models", json={"name": name}).json()
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        assert client.put(f"/v1/models/{model['id']}/files/{path.name}", content=path.read_bytes()).is_success
    assert client.post(f"/v1/models/{model['id']}/complete").status_code == 202
    return model["id"]


def until(check, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise TimeoutError("condition not reached")


def test_share_catalog_endpoints_tiers_and_keys_from_the_command_line(embedded, tiny_checkpoint, tmp_path):
    server = {"XEROTIER_DATA_DIR": str(tmp_path / "embedded")}
    owner = {"XEROTIER_API_URL": embedded.url, "XEROTIER_API_KEY": embedded.api_key}
    with httpx.Client(
        base_url=embedded.url, headers={"Authorization": f"Bearer {embedded.api_key}"}
    ) as client:
        model_id = upload(client, tiny_checkpoint, "tiny-shared")
        assert wait_for_status(client, model_id, {"ready", "error"})["status"] == "ready"

    created = run("xerotier", "keys", "create", "--project", "guest", "--name", "cli", env=server)
    assert created.returncode == 0, created.stderr
    guest_key = created.stdout.strip()
    guest = {"XEROTIER_API_URL": embedded.url, "XEROTIER_API_KEY": guest_key}

    def ctl(who, *args):
        return run("xeroctl", "-o", "json", *args, env=who)

    assert json.loads(ctl(guest, "catalog", "list").stdout)["models"] == []
    shared = ctl(owner, "models", "share", model_id)
    assert shared.returncode == 0, shared.stderr
    assert json.loads(shared.stdout)["catalogRole"] == "deployable"
    listed = json.loads(ctl(guest, "catalog", "list", "--architecture", "llama", "-q", "TINY").stdout)
    assert [m["id"] for m in listed["models"]] == [model_id]
    assert "tiny-shared" in run("xeroctl", "catalog", "list", env={**guest, "COLUMNS": "250"}).stdout
    assert json.loads(ctl(guest, "catalog", "get", model_id).stdout)["contextLength"] == 4096
    tiers = [t["slug"] for t in json.loads(ctl(guest, "tiers", "list").stdout)]
    assert tiers[0] == "self_hosted" and len(tiers) >= 3

    refused = ctl(guest, "endpoints", "create", model_id, "--tier", tiers[1])
    assert refused.returncode == 1 and "Error (403): Tier" in refused.stderr
    endpoint = json.loads(ctl(guest, "endpoints", "create", model_id).stdout)
    assert endpoint["tier"] == "self_hosted" and endpoint["modelId"] == model_id
    assert [e["id"] for e in json.loads(ctl(guest, "endpoints", "list").stdout)] == [endpoint["id"]]
    assert json.loads(ctl(guest, "endpoints", "get", endpoint["id"]).stdout)["modelName"] == "tiny-shared"
    until(lambda: json.loads(ctl(guest, "catalog", "get", model_id).stdout)["deploymentCount"] == 1)
    # No GPU agent runs here: the loading service finds no backend, so the model is not serving.
    until(lambda: json.loads(ctl(guest, "endpoints", "get", endpoint["id"]).stdout)["status"] == "failed")
    assert json.loads(ctl(owner, "models", "get", model_id).stdout)["status"] == "ready"

    promoted = run("xerotier", "catalog", "set-role", model_id, "shared", "--featured", env=server)
    assert promoted.returncode == 0 and "role shared" in promoted.stdout, promoted.stderr
    on_shared = json.loads(ctl(guest, "endpoints", "create", model_id, "--tier", tiers[1]).stdout)
    assert ctl(guest, "endpoints", "delete", on_shared["id"]).returncode == 0
    until(lambda: json.loads(ctl(guest, "catalog", "get", model_id).stdout)["catalogRole"] == "deployable")
    assert json.loads(ctl(guest, "endpoints", "delete", endpoint["id"]).stdout)["status"] == "deleted"

    unshared = json.loads(ctl(owner, "models", "unshare", model_id).stdout)
    assert (unshared["isShared"], unshared["catalogRole"], unshared["featured"]) == (False, None, False)
    again = ctl(owner, "models", "unshare", model_id)
    assert again.returncode == 1 and "Error (404): Model not found or not shared" in again.stderr

    keys = run("xerotier", "keys", "list", "--project", "guest", env=server)
    assert keys.returncode == 0 and guest_key[:-28] in keys.stdout and guest_key not in keys.stdout
    key_id = keys.stdout.split()[0]
    assert "last used 20" in keys.stdout
    revoked = run("xerotier", "keys", "revoke", key_id, "--project", "guest", env=server)
    assert revoked.returncode == 0, revoked.stderr
    denied = ctl(guest, "tiers", "list")
    assert denied.returncode == 1 and "Error (401): Authentication required" in denied.stderr
    missing = run("xerotier", "keys", "list", "--project", "nobody", env=server)
    assert missing.returncode == 1 and "Project 'nobody' not found" in missing.stderr
