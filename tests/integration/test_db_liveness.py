"""The pool's checkout check: no round trip for a live connection, a ping only when there is doubt."""

from __future__ import annotations

import time

import psycopg
import pytest
from sqlalchemy import text

from xerotier.db.engine import make_engine
from xerotier.db.liveness import needs_ping


def _backend_pid(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.scalar(text("SELECT pg_backend_pid()"))


def test_a_live_pooled_connection_is_reused_without_a_ping(pg_url: str) -> None:
    engine = make_engine(pg_url)
    try:
        pid = _backend_pid(engine)
        pings: list[object] = []
        original = engine.dialect.do_ping
        engine.dialect.do_ping = lambda dbapi: pings.append(dbapi) or original(dbapi)  # type: ignore[method-assign]
        for _ in range(5):
            assert _backend_pid(engine) == pid  # same pooled connection
        assert pings == []
    finally:
        engine.dispose()


def test_a_terminated_backend_is_replaced_before_the_caller_sees_it(pg_url: str, pg_admin: str) -> None:
    engine = make_engine(pg_url)
    try:
        pid = _backend_pid(engine)
        with psycopg.connect(pg_admin, autocommit=True) as admin:
            assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]
            deadline = time.monotonic() + 10  # the backend exits a moment after the signal
            while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
                assert time.monotonic() < deadline, f"backend {pid} did not exit"
                time.sleep(0.02)
        with engine.connect() as conn:  # the FATAL + EOF make the socket readable: pinged, replaced
            new_pid = conn.scalar(text("SELECT pg_backend_pid()"))
        assert new_pid != pid
    finally:
        engine.dispose()


@pytest.mark.parametrize(("idle", "expected"), [(0.0, False), (31.0, True)])
def test_needs_ping_after_long_idleness(pg_url: str, idle: float, expected: bool) -> None:
    dsn = pg_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        assert needs_ping(conn, idle, max_idle=30.0) is expected


def test_needs_ping_for_a_closed_connection(pg_url: str) -> None:
    conn = psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://"))
    conn.close()
    assert needs_ping(conn, 0.0, max_idle=30.0)
