"""Shared fixtures: real PostgreSQL, Redis and Celery worker processes; a real ``xerotier up``.

No mock or fake of the database, broker or storage. A service that cannot be reached fails the
run with a message naming its URL (it never skips).
"""

from __future__ import annotations

import os
import secrets
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent))

from support.checkpoints import write_tiny_checkpoint
from support.processes import ManagedProcess, start_up, start_worker
from xerotier.db.migrate import upgrade
from xerotier.db.projects import create_key, get_or_create_project
from xerotier.gateway.app import create_app
from xerotier.runtime import Runtime, set_runtime
from xerotier.settings import Settings

PG_ADMIN_URL = os.environ.get("XEROTIER_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("XEROTIER_TEST_REDIS", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def pg_admin() -> str:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=5, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        pytest.fail(f"PostgreSQL is required at {PG_ADMIN_URL} and is unreachable: {exc}", pytrace=False)
    return PG_ADMIN_URL


@pytest.fixture
def pg_url(pg_admin: str) -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    name = f"xerotier_test_{secrets.token_hex(6)}"
    with psycopg.connect(pg_admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = pg_admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    yield f"{base}/{name}"
    with psycopg.connect(pg_admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def redis_url() -> Iterator[str]:
    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5)
        client.ping()
    except Exception as exc:
        pytest.fail(f"Redis is required at {REDIS_URL} and is unreachable: {exc}", pytrace=False)
    yield REDIS_URL
    client.close()


@pytest.fixture
def pg_settings(pg_url: str, redis_url: str, tmp_path: Path) -> Iterator[Settings]:
    """Production-mode settings: PostgreSQL, Redis (keys under a unique prefix), local blobs."""
    prefix = f"xt-{secrets.token_hex(4)}:"
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=pg_url,
        broker_url=redis_url,
        broker_key_prefix=prefix,
        blob_dir=tmp_path / "blobs",
        relay_interval_seconds=0.2,
        reconcile_interval_seconds=0.5,
    )
    yield settings
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def pg_runtime(pg_settings: Settings) -> Iterator[Runtime]:
    runtime = Runtime(pg_settings, [])
    upgrade(runtime.engine)
    set_runtime(runtime)
    yield runtime
    set_runtime(None)


@pytest.fixture
def sqlite_runtime(tmp_path: Path) -> Iterator[Runtime]:
    """Embedded-mode runtime (SQLite, file-system broker) for in-process tests."""
    runtime = Runtime(Settings(data_dir=tmp_path / "data"), [])
    upgrade(runtime.engine)
    set_runtime(runtime)
    yield runtime
    set_runtime(None)


def mint_key(runtime: Runtime, slug: str = "test") -> str:
    with runtime.unit_of_work() as session:
        project = get_or_create_project(session, slug)
        _, key = create_key(session, project, "test")
    return key


@pytest.fixture
def pg_api(pg_runtime: Runtime) -> Iterator[TestClient]:
    """The real gateway app in-process on PostgreSQL + Redis, authenticated with a fresh key."""
    key = mint_key(pg_runtime)
    with TestClient(create_app(pg_runtime), raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        yield client


@pytest.fixture
def pg_worker(pg_settings: Settings, pg_runtime: Runtime, tmp_path: Path) -> Iterator[ManagedProcess]:
    """A real Celery worker process (prefork) consuming every service queue."""
    proc = start_worker(pg_settings, ["upload", "validation", "catalog", "loading"], tmp_path / "worker.log")
    yield proc
    proc.stop()


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[ManagedProcess]:
    """A real ``xerotier up`` process on a free port with its own data directory."""
    proc = start_up(tmp_path / "embedded", free_port(), tmp_path / "up.log")
    yield proc
    proc.stop()


@pytest.fixture
def tiny_checkpoint(tmp_path: Path) -> Path:
    return write_tiny_checkpoint(tmp_path / "tiny")
