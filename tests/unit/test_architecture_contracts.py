"""The import-linter contracts cover every module they are meant to (a new module cannot slip out)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVER_SIDE = {"server", "server_blobs", "embedded", "__init__"}  # `xerotier`: may use the database


def _contracts() -> dict[str, dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {c["name"]: c for c in config["contracts"]}


def test_every_xeroctl_module_is_kept_away_from_the_database():
    contract = next(c for n, c in _contracts().items() if n.startswith("The GPU agent, xeroctl"))
    client_side = {
        f"xerotier.cli.{p.stem}"
        for p in (ROOT / "services/xerotier/cli").glob("*.py")
        if p.stem not in SERVER_SIDE
    }
    assert client_side - set(contract["source_modules"]) == set()
    assert {"xerotier.agent", "xerotier.operator", "xerotier.client"} <= set(contract["source_modules"])


def test_every_service_package_is_in_the_independence_contract():
    contract = next(c for n, c in _contracts().items() if n.startswith("No service imports another"))
    composers = {"gateway", "cli", "dashboard"}  # they compose the services (the gateway's routers, CLIs)
    services = {
        f"xerotier.{p.name}"
        for p in (ROOT / "services/xerotier").iterdir()
        if p.is_dir() and (p / "__init__.py").exists() and p.name not in composers
    }
    assert services - set(contract["modules"]) == set()
