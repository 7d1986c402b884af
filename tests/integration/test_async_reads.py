"""Reads on the event loop (PostgreSQL): the API key lookup gives the same answers as the
synchronous one, and no request fails when the server drops the connections in between."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import free_port, mint_key
from xerotier import auth
from xerotier.db.async_reads import AsyncReader, compile_for_psycopg, conninfo
from xerotier.db.models import ApiKey
from xerotier.db.projects import LOOKUP, verify
from xerotier.errors import TransientError
from xerotier.gateway.app import create_app
from xerotier.runtime import Runtime


def _terminate_other_backends(dsn: str) -> None:
    """Kill every other session of this database, and wait until they are gone."""
    with psycopg.connect(dsn, autocommit=True) as admin:
        others = "datname = current_database() AND pid <> pg_backend_pid()"
        admin.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE {others}")
        deadline = time.monotonic() + 10
        while admin.execute(f"SELECT count(*) FROM pg_stat_activity WHERE {others}").fetchone()[0]:
            assert time.monotonic() < deadline, "terminated backends did not exit"
            time.sleep(0.02)


def test_lookup_matches_the_key_and_survives_terminated_connections(pg_runtime: Runtime) -> None:
    key = mint_key(pg_runtime)
    parsed = auth.parse_key(key)
    assert parsed is not None
    dsn = conninfo(pg_runtime.settings.resolved_database_url)

    async def scenario() -> tuple[object, object, object]:
        reader, sql = AsyncReader(dsn), compile_for_psycopg(LOOKUP)
        try:
            first = verify(parsed, await reader.fetch_one(sql, {"lookup": parsed.lookup}))
            await asyncio.to_thread(_terminate_other_backends, dsn)
            again = verify(parsed, await reader.fetch_one(sql, {"lookup": parsed.lookup}))  # replaced
            unknown = await reader.fetch_one(sql, {"lookup": "x" * auth.LOOKUP_LENGTH})
            return first, again, unknown
        finally:
            await reader.close()

    first, again, unknown = asyncio.run(scenario())
    assert first is not None and first == again
    assert first.project_slug == "test"
    assert unknown is None


def test_lookup_with_the_database_down_is_a_transient_error() -> None:
    reader = AsyncReader(f"host=127.0.0.1 port={free_port()} user=postgres dbname=none connect_timeout=2")
    with pytest.raises(TransientError, match="Database unavailable"):
        asyncio.run(reader.fetch_one("SELECT 1", None))


def test_the_gateway_authenticates_on_the_loop_and_records_last_use(pg_runtime: Runtime) -> None:
    key = mint_key(pg_runtime)
    before = datetime.now(UTC)
    with TestClient(create_app(pg_runtime), raise_server_exceptions=False) as client:
        assert client.app.state.async_reader is not None  # type: ignore[attr-defined]  # PostgreSQL
        headers = {"Authorization": f"Bearer {key}"}
        assert client.get("/v1/models", headers=headers).status_code == 200
        _terminate_other_backends(conninfo(pg_runtime.settings.resolved_database_url))
        assert client.get("/v1/models", headers=headers).status_code == 200  # no 503 after it
        tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
        answer = client.get("/v1/models", headers={"Authorization": f"Bearer {tampered}"})
        assert answer.status_code == 401
        assert answer.json()["error"]["message"] == "Authentication required"
    with pg_runtime.session_factory() as session:
        last_used = session.scalar(
            select(ApiKey.last_used_at).where(ApiKey.lookup == key.split("_")[-1][:12])
        )
    assert last_used is not None and last_used >= before  # written by this test's requests
