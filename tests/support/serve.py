"""A real ``xerotier serve`` (uvicorn) process on PostgreSQL + Redis, for tests that need real sockets."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from support.processes import BIN, ManagedProcess, _spawn, settings_env
from xerotier.db.projects import create_key, get_or_create_project
from xerotier.runtime import Runtime
from xerotier.settings import Settings


def mint_key(runtime: Runtime, slug: str) -> tuple[str, str]:
    """A fresh API key of project ``slug``: (project id, key)."""
    with runtime.unit_of_work() as session:
        project = get_or_create_project(session, slug)
        _, key = create_key(session, project, "test")
        return project.id, key


def start_serve(settings: Settings, port: int, log_path: Path) -> ManagedProcess:
    env = settings_env(settings.model_copy(update={"port": port, "host": "127.0.0.1"}))
    proc = _spawn([str(BIN / "xerotier"), "serve"], env, log_path)
    proc.url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise RuntimeError(f"xerotier serve exited:\n{proc.log()[-3000:]}")
        try:
            if httpx.get(f"{proc.url}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.stop()
    raise TimeoutError(f"xerotier serve never answered /healthz:\n{proc.log()[-3000:]}")
