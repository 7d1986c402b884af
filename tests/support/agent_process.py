"""A real ``xerotier agent`` process (declared inventory or ``--device cpu``) under test.

The agent gets no usable database URL: it must talk to the registry through tasks only (a
database access would fail on the unresolvable host and the agent would never register).
"""

from __future__ import annotations

import time
from pathlib import Path

from support.processes import BIN, ManagedProcess, _spawn, _wait_for, settings_env
from xerotier.db.models import Backend
from xerotier.runtime import Runtime
from xerotier.settings import Settings

NO_DATABASE = "postgresql+psycopg://agent-has-no-database.invalid:5432/none"


def start_agent(
    settings: Settings,
    backend_id: str,
    args: list[str],
    log_path: Path,
    extra_env: dict[str, str] | None = None,
) -> ManagedProcess:
    env = settings_env(settings) | {
        "XEROTIER_HEARTBEAT_INTERVAL_SECONDS": "0.5",
        "XEROTIER_DATABASE_URL": NO_DATABASE,
        "XEROTIER_METRICS_PORT": "0",
    }
    env |= extra_env or {}
    proc = _spawn([str(BIN / "xerotier"), "agent", "--backend-id", backend_id, *args], env, log_path)
    _wait_for(proc, r"\bready\.", 120)
    return proc


def wait_registered(runtime: Runtime, backend_id: str, proc: ManagedProcess, timeout: float = 60) -> Backend:
    """The loading service recorded the agent's registration task."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with runtime.session_factory() as session:
            row = session.get(Backend, backend_id)
            if row is not None:
                return row
        if proc.popen.poll() is not None:
            raise RuntimeError(f"agent exited:\n{proc.log()[-3000:]}")
        time.sleep(0.1)
    raise TimeoutError(f"backend {backend_id} never registered:\n{proc.log()[-3000:]}")
