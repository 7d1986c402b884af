"""xeroctl's conventions as a user meets them, against a real `xerotier up`: ids never cut (terminal at
80 columns, or piped), `-o` anywhere, `--version`, `whoami`, profiles in a 0600 config file with the
environment winning, confirmation before deleting, humanised `get`, a 401 that says how to set a key."""

from __future__ import annotations

import json
import os
import pty
import select
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from support.processes import wait_for_status

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent


def env_for(proc, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XEROTIER_")}
    env |= {"XEROTIER_CONFIG": str(tmp_path / "config" / "config.toml"), "COLUMNS": "80"}
    if proc is not None:
        env |= {"XEROTIER_API_URL": proc.url, "XEROTIER_API_KEY": proc.api_key}
    return env | extra


def ctl(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "xeroctl"), *args], env=env, capture_output=True, text=True, timeout=60)


def on_terminal(env: dict[str, str], *args: str, answer: bytes = b"") -> tuple[int, str]:
    """Run xeroctl with a pseudo-terminal as stdin and stdout (80 columns); type ``answer``."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [str(BIN / "xeroctl"), *args], env=env | {"TERM": "dumb"}, stdin=follower, stdout=follower,
        stderr=follower, close_fds=True,
    )  # fmt: skip
    os.close(follower)
    out, sent, deadline = b"", False, time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
            if answer and not sent and b"[y/N]" in out:
                os.write(leader, answer)
                sent = True
        elif proc.poll() is not None:
            break
    proc.wait(timeout=30)
    os.close(leader)
    return proc.returncode, out.decode(errors="replace").replace("\r", "")


def upload(proc, folder: Path, name: str) -> str:
    with httpx.Client(
        base_url=proc.url, headers={"Authorization": f"Bearer {proc.api_key}"}, timeout=30
    ) as client:
        model = client.post("/v1/models", json={"name": name}).json()
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            assert client.put(
                f"/v1/models/{model['id']}/files/{path.name}", content=path.read_bytes()
            ).is_success
        assert client.post(f"/v1/models/{model['id']}/complete").status_code == 202
        assert wait_for_status(client, model["id"], {"ready", "error"})["status"] == "ready"
    return model["id"]


def test_ids_in_full_output_anywhere_and_humanised_get(embedded, tiny_checkpoint, tmp_path):
    name = "a-model-name-long-enough-to-matter-" + "x" * 20
    model_id = upload(embedded, tiny_checkpoint, name)
    env = env_for(embedded, tmp_path)

    # Piped: tab-separated, a header line, every value in full.
    piped = ctl(env, "models", "list")
    assert piped.returncode == 0, piped.stderr
    header, row = piped.stdout.strip().splitlines()
    assert header.split("\t")[:2] == ["ID", "NAME"]
    assert row.split("\t")[:2] == [model_id, name]

    # On an 80-column terminal the id and the name are still whole, on one line each.
    code, screen = on_terminal(env, "models", "list")
    assert code == 0, screen
    assert model_id in screen and name in screen and "…" not in screen

    # -o after the command, as well as before it; json and yaml.
    after = ctl(env, "models", "list", "-o", "json")
    assert [m["id"] for m in json.loads(after.stdout)] == [model_id]
    assert json.loads(ctl(env, "models", "get", model_id, "--output", "json").stdout)["id"] == model_id
    assert f"id: {model_id}" in ctl(env, "-o", "yaml", "models", "get", model_id).stdout
    assert f"- id: {model_id}" in ctl(env, "models", "versions", "list", model_id, "-o", "yaml").stdout

    # get, on a terminal: units, yes/no, lists joined, nested metadata as a sub-table (no Python reprs).
    code, screen = on_terminal(env, "models", "get", model_id)
    assert code == 0, screen
    lines = {line.split()[0]: line.split()[1:] for line in screen.splitlines() if line.strip()}
    assert lines["isLatest"] == ["yes"] and lines["architectures"] == ["LlamaForCausalLM"]
    assert lines["sizeBytes"][1] in ("KB", "MB")
    assert lines["extraMetadata"][0] == "modelType"  # a sub-table, not a dict repr
    assert "True" not in screen and "['" not in screen and "{'" not in screen


def test_version_whoami_profiles_and_the_key_hint(embedded, tmp_path):
    bare = env_for(None, tmp_path)
    for tool in ("xeroctl", "xerotier"):
        done = subprocess.run([str(BIN / tool), "--version"], env=bare, capture_output=True, text=True)
        assert done.returncode == 0 and done.stdout.startswith(f"{tool} 0.")

    me = json.loads(ctl(env_for(embedded, tmp_path), "whoami", "-o", "json").stdout)
    assert me["project"] == "default" and me["apiUrl"] == embedded.url
    assert me["apiKeyFrom"] == "XEROTIER_API_KEY" and me["keyPrefix"].startswith("xero_default_")

    # No variables: 401 with the hint; then login writes a 0600 profile that is used.
    denied = ctl(bare | {"XEROTIER_API_URL": embedded.url}, "models", "list")
    assert denied.returncode == 1 and "xeroctl login" in denied.stderr and "XEROTIER_API_KEY" in denied.stderr
    login = ctl(bare, "login", "--api-url", embedded.url, "--api-key", embedded.api_key)
    assert login.returncode == 0, login.stderr
    config = tmp_path / "config" / "config.toml"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert ctl(bare, "models", "list").returncode == 0
    assert json.loads(ctl(bare, "whoami", "-o", "json").stdout)["apiKeyFrom"] == "profile default"

    # The environment wins over the profile; --profile picks another one.
    assert ctl(bare | {"XEROTIER_API_KEY": "xero_default_wrongwrongwrong"}, "models", "list").returncode == 1
    set_bad = ctl(bare, "config", "set", "api_key", "xero_default_wrongwrongwrong", "--profile", "bad")
    assert set_bad.returncode == 0 and "wrongwrongwr…" in set_bad.stdout  # the key shown by its prefix
    assert ctl(bare, "config", "set", "api_url", embedded.url, "--profile", "bad").returncode == 0
    assert ctl(bare, "--profile", "bad", "models", "list").returncode == 1
    assert (
        ctl(bare | {"XEROTIER_API_KEY": embedded.api_key}, "--profile", "bad", "models", "list").returncode
        == 0
    )
    listed = ctl(bare, "config", "list")
    assert "bad" in listed.stdout and embedded.api_key not in listed.stdout
    assert stat.S_IMODE(config.stat().st_mode) == 0o600


def test_delete_asks_first_unless_yes(embedded, tiny_checkpoint, tmp_path):
    model_id = upload(embedded, tiny_checkpoint, "to-delete")
    env = env_for(embedded, tmp_path)
    code, screen = on_terminal(env, "models", "delete", model_id, answer=b"n\n")
    assert code == 1 and "Delete to-delete 1.0.0" in screen and "Aborted" in screen
    assert ctl(env, "models", "get", model_id).returncode == 0  # still there
    code, screen = on_terminal(env, "models", "delete", model_id, "--yes")
    assert code == 0, screen
    assert ctl(env, "models", "get", model_id).returncode == 1
