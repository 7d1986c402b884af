"""`xerotier` settings as a user gives them: flag > XEROTIER_* variable > default, on a real `xerotier up`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from support.processes import _spawn, _wait_for

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XEROTIER_")}
    return env | extra


def xerotier(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "xerotier"), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("variable", "value"), [("XEROTIER_PORT", "abc"), ("XEROTIER_PORT", "70000"), ("XEROTIER_PORT", "")]
)
def test_a_bad_variable_is_refused_naming_it(variable, value, tmp_path):
    done = xerotier("up", env=clean_env(**{variable: value}), cwd=tmp_path)
    assert done.returncode == 1
    assert f"Invalid {variable}=" in done.stderr, done.stderr
    assert not (tmp_path / "xerotier-data").exists()  # refused before anything was created


def test_up_honours_the_environment_then_mints_a_key_only_on_first_start(tmp_path):
    from conftest import free_port

    data_dir, port, elsewhere = tmp_path / "registry", free_port(), tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = clean_env(XEROTIER_DATA_DIR=str(data_dir), XEROTIER_PORT=str(port), XEROTIER_HOST="127.0.0.1")

    first = _spawn([str(BIN / "xerotier"), "up"], env, tmp_path / "up1.log")
    try:
        key = _wait_for(first, r"API key: (xero_\S+)", 60).group(1)
        banner = first.log()
        assert f"Dashboard: http://127.0.0.1:{port}/ui" in banner
        assert str(data_dir.resolve()) in banner
        assert (data_dir / "xerotier.db").exists()
        _wait_for(first, r"Uvicorn running|Application startup complete", 60)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            assert client.get("/healthz").status_code == 200
            assert client.get("/v1/models", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    finally:
        first.stop()

    # A flag beats the variable: the same registry on another port.
    port2 = free_port()
    again = _spawn([str(BIN / "xerotier"), "up", "--port", str(port2)], env, tmp_path / "up2.log")
    try:
        line = _wait_for(again, r"API key: (.*)", 60).group(1)
        assert not line.startswith("xero_"), "a restart must not mint another key"
        _wait_for(again, r"--data-dir \S+", 10)
        assert f"API:       http://127.0.0.1:{port2}" in again.log()
        assert "xerotier keys create --project default --data-dir" in again.log()
    finally:
        again.stop()

    # From another folder, without --data-dir: no second, empty registry is created.
    lost = xerotier("keys", "create", "--project", "default", env=clean_env(), cwd=elsewhere)
    assert lost.returncode == 1 and "No registry in" in lost.stderr and "--data-dir" in lost.stderr
    assert not (elsewhere / "xerotier-data").exists()
    minted = xerotier(
        "keys", "create", "--project", "default", "--data-dir", str(data_dir), env=clean_env(), cwd=elsewhere
    )
    assert minted.returncode == 0, minted.stderr
    listed = xerotier(
        "keys", "list", "--project", "default", env=clean_env(XEROTIER_DATA_DIR=str(data_dir)), cwd=elsewhere
    )
    assert listed.returncode == 0 and len(listed.stdout.strip().splitlines()) == 2, listed.stdout


def test_version_flag(tmp_path):
    done = xerotier("--version", env=clean_env(), cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.startswith("xerotier ")
