"""A real ``xerotier agent`` process (declared inventory or ``--device cpu``) under test."""

from __future__ import annotations

from pathlib import Path

from support.processes import BIN, ManagedProcess, _spawn, _wait_for, settings_env
from xerotier.settings import Settings


def start_agent(settings: Settings, backend_id: str, args: list[str], log_path: Path) -> ManagedProcess:
    env = settings_env(settings) | {"XEROTIER_HEARTBEAT_INTERVAL_SECONDS": "0.5"}
    proc = _spawn([str(BIN / "xerotier"), "agent", "--backend-id", backend_id, *args], env, log_path)
    _wait_for(proc, r"\bready\.", 60)
    return proc
