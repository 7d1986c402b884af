"""Fault injection helpers: workers with the test fault plugin, a reconciler process, private servers.

The shared PostgreSQL and Redis are never restarted: scenarios that restart a server start their
own on a free port (``PrivateRedis``, ``PrivatePostgres``), in a folder the server's user owns.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import psycopg
import redis
from fastapi.testclient import TestClient

from support.processes import BIN, ManagedProcess, _spawn, _wait_for, settings_env
from xerotier.db.projects import create_key, get_or_create_project
from xerotier.gateway.app import create_app
from xerotier.runtime import Runtime
from xerotier.settings import Settings

RABBIT_URL = os.environ.get("XEROTIER_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672")


def broker_kind() -> str:
    return os.environ.get("XEROTIER_TEST_BROKER", "redis")


def fault_settings(tmp_path: Path, database_url: str, broker_url: str, prefix: str = "") -> Settings:
    """Short deadlines so a lost message is re-driven within seconds; no metrics server."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        broker_url=broker_url,
        broker_key_prefix=prefix,
        blob_dir=tmp_path / "blobs",
        relay_interval_seconds=0.2,
        reconcile_interval_seconds=0.5,
        validation_deadline_seconds=8,
        upload_deadline_seconds=10,
        visibility_timeout_seconds=6,
        max_attempts=4,
        metrics_port=0,
        heartbeat_file=tmp_path / "heartbeat",
    )


def api_client(runtime: Runtime) -> TestClient:
    """The real gateway app in-process on ``runtime``, with a fresh key."""
    with runtime.unit_of_work() as session:
        _, key = create_key(session, get_or_create_project(session, "faults"), "faults")
    client = TestClient(create_app(runtime), raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {key}"
    return client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


PLUGIN_DIR = Path(__file__).parent / "fault_plugin"
PG_BIN = Path(os.environ.get("XEROTIER_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))


def fault_env(settings: Settings, fault_dir: Path, **faults: str) -> dict[str, str]:
    """The environment of a process running ``settings`` with the fault plugin selected by ``faults``."""
    env = settings_env(settings)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PLUGIN_DIR), env.get("PYTHONPATH", "")]))
    env["XEROTIER_FAULT_DIR"] = str(fault_dir)
    env.update({f"XEROTIER_FAULT_{k.upper()}": v for k, v in faults.items()})
    return env


def start_fault_worker(
    settings: Settings,
    services: list[str],
    log_path: Path,
    fault_dir: Path,
    concurrency: int = 1,
    **faults: str,
) -> ManagedProcess:
    """A real ``xerotier worker`` with the fault plugin (``slow=…``, ``drop_once="1"``)."""
    args = [str(BIN / "xerotier"), "worker", *services, "--concurrency", str(concurrency)]
    proc = _spawn(args, fault_env(settings, fault_dir, **faults), log_path)
    _wait_for(proc, r"\bready\.", 60)
    return proc


def start_reconciler(settings: Settings, log_path: Path) -> ManagedProcess:
    """A real ``xerotier reconciler`` (outbox relay + re-drives), ready once it touched its heartbeat."""
    heartbeat = settings.heartbeat_file
    heartbeat.unlink(missing_ok=True)
    proc = _spawn([str(BIN / "xerotier"), "reconciler"], settings_env(settings), log_path)
    deadline = time.monotonic() + 60
    while not heartbeat.exists():
        if proc.popen.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"reconciler did not start:\n{proc.log()[-3000:]}")
        time.sleep(0.1)
    return proc


def start_gateway(settings: Settings, log_path: Path) -> ManagedProcess:
    """A real ``xerotier serve`` on ``settings.port``, answering /healthz."""
    from support.serve import start_serve

    return start_serve(settings, settings.port, log_path)


def children(pid: int) -> list[int]:
    """Direct child processes of ``pid`` (the prefork pool of a worker)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def signal_tree(proc: ManagedProcess, sig: int) -> None:
    """Send ``sig`` to a worker's pool processes and to the worker itself (SIGKILL: and reap it)."""
    for pid in [*children(proc.popen.pid), proc.popen.pid]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
    if sig == signal.SIGKILL:
        proc.popen.wait(timeout=30)


def wait_for_log(proc: ManagedProcess, pattern: str, timeout: float = 60) -> str:
    return _wait_for(proc, pattern, timeout).group(0)


def _as(user: str, args: list[str]) -> str:
    """Run ``args`` as ``user`` (when root); raise naming the command and its output on failure."""
    prefix = ["runuser", "-u", user, "--"] if os.geteuid() == 0 else []
    done = subprocess.run(prefix + args, capture_output=True, text=True, timeout=120)
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}): {done.stdout}{done.stderr}")
    return done.stdout


class PrivateRedis:
    """A Redis server of this test alone (append-only, so queued messages survive a restart)."""

    def __init__(self, folder: Path, port: int) -> None:
        if shutil.which("redis-server") is None:
            raise RuntimeError("redis-server is required for the Redis restart scenario and is not installed")
        self.folder, self.port = folder, port
        self.url = f"redis://127.0.0.1:{port}/0"
        folder.mkdir(parents=True, exist_ok=True)
        self.popen: subprocess.Popen | None = None

    def start(self) -> None:
        log = (self.folder / "redis.log").open("ab")
        self.popen = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--dir",
                str(self.folder),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if redis.Redis.from_url(self.url, socket_connect_timeout=1).ping():
                    return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        if self.popen and self.popen.poll() is None:
            self.popen.terminate()
            self.popen.wait(timeout=30)

    def restart(self, down_seconds: float = 1.0) -> None:
        self.stop()
        time.sleep(down_seconds)
        self.start()


class PrivatePostgres:
    """A PostgreSQL cluster of this test alone, owned by the ``postgres`` user when run as root."""

    def __init__(self, port: int) -> None:
        if not (PG_BIN / "initdb").exists():
            raise RuntimeError(f"PostgreSQL binaries are required at {PG_BIN} (XEROTIER_TEST_PG_BIN)")
        self.user = "postgres" if os.geteuid() == 0 else os.environ.get("USER", "")
        # not under pytest's basetemp: every pytest session on the machine resets its mode to 0700
        self.folder, self.port = Path(tempfile.mkdtemp(prefix="xerotier-pg-")), port
        self.data = self.folder / "pgdata"
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        _as(self.user, [str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-N"])
        self.admin = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/xerotier"

    def _ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        _as(
            self.user,
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.data),
                "-o",
                options,
                "-w",
                "-l",
                str(self.folder / "pg.log"),
                *args,
            ],
        )

    def start(self) -> None:
        self._ctl("start")
        with psycopg.connect(self.admin, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = 'xerotier'").fetchone()
            if not exists:
                conn.execute("CREATE DATABASE xerotier")

    def stop(self) -> None:
        self._ctl("stop", "-m", "fast")

    def restart(self, down_seconds: float = 1.0) -> None:
        self.stop()
        time.sleep(down_seconds)
        self._ctl("start")

    def destroy(self) -> None:
        """Stop the server (if running) and remove its folder."""
        with contextlib.suppress(RuntimeError):
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def upload_model(client: httpx.Client, folder: Path, name: str, complete: bool = True) -> str:
    """Create ``name``, upload every file of ``folder`` and (optionally) complete it; return its id."""
    created = client.post("/v1/models", json={"name": name})
    assert created.status_code == 201, created.text
    model_id = created.json()["id"]
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        put = client.put(
            f"/v1/models/{model_id}/files/{path.relative_to(folder).as_posix()}", content=path.read_bytes()
        )
        assert put.status_code == 201, put.text
    if complete:
        done = client.post(f"/v1/models/{model_id}/complete")
        assert done.status_code == 202, done.text
    return model_id
