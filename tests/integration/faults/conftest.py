"""Fixtures of the fault-injection scenarios: a broker per test (Redis by default, RabbitMQ with
``XEROTIER_TEST_BROKER=amqp``), short deadlines, and a gateway app on the scenario's runtime."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from support.faults import RABBIT_URL, api_client, broker_kind, fault_settings
from xerotier.db.migrate import upgrade
from xerotier.runtime import Runtime, set_runtime


@pytest.fixture
def rabbit_vhost() -> Iterator[str]:
    """A private RabbitMQ vhost for one test (created and deleted with rabbitmqctl)."""
    vhost = f"xt-{secrets.token_hex(4)}"
    try:
        subprocess.run(["rabbitmqctl", "add_vhost", vhost], check=True, capture_output=True, timeout=60)
        subprocess.run(
            ["rabbitmqctl", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
            check=True,
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.fail(
            f"RabbitMQ is required at {RABBIT_URL} (rabbitmqctl add_vhost failed: {exc})", pytrace=False
        )
    yield f"{RABBIT_URL}/{vhost}"
    subprocess.run(["rabbitmqctl", "delete_vhost", vhost], capture_output=True, timeout=60)


@pytest.fixture
def fault_broker(request: pytest.FixtureRequest, redis_url: str) -> Iterator[tuple[str, str]]:
    """(broker URL, key prefix) on the shared broker chosen by ``XEROTIER_TEST_BROKER``."""
    if broker_kind() == "amqp":
        yield request.getfixturevalue("rabbit_vhost"), ""
        return
    prefix = f"xt-{secrets.token_hex(4)}:"
    yield redis_url, prefix
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def fault_runtime(pg_url: str, fault_broker: tuple[str, str], tmp_path: Path) -> Iterator[Runtime]:
    runtime = Runtime(fault_settings(tmp_path, pg_url, *fault_broker), [])
    upgrade(runtime.engine)
    set_runtime(runtime)
    yield runtime
    set_runtime(None)
    runtime.engine.dispose()


@pytest.fixture
def fault_api(fault_runtime: Runtime) -> Iterator[TestClient]:
    with api_client(fault_runtime) as client:
        yield client
