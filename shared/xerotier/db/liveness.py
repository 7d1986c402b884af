"""A pool checkout check that costs no round trip while the connection is evidently alive.

SQLAlchemy's ``pool_pre_ping`` sends a query on every checkout: one PostgreSQL round trip per
request (0.1–0.5 ms here), twice when a request checks out two connections. Instead, a pooled
connection is pinged only when there is a reason to doubt it:

- its socket is readable while idle: the server said something unprompted, which for a connection
  nobody listens on means a FATAL (shutdown, ``pg_terminate_backend``, idle timeout) or the
  socket's end-of-file — a restart or a killed backend is seen at once, at no cost;
- it has sat idle longer than ``max_idle`` (a silent network failure shows no readable socket).

A failed ping raises ``DisconnectionError``: the pool discards the connection and checks out
another (SQLAlchemy's documented "pessimistic disconnect handling" hook).
"""

from __future__ import annotations

import select
import time
from typing import Any

from sqlalchemy import Engine, event, exc

_IDLE_SINCE = "xerotier_idle_since"
DEFAULT_MAX_IDLE_SECONDS = 30.0


def socket_has_news(fileno: int) -> bool:
    """True when ``fileno`` is readable right now (data, an error or end-of-file waiting)."""
    poller = select.poll()
    poller.register(fileno, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


def needs_ping(dbapi_connection: Any, idle_seconds: float, max_idle: float) -> bool:
    """Whether a pooled connection, idle for ``idle_seconds``, must be pinged before use."""
    if idle_seconds > max_idle or getattr(dbapi_connection, "closed", False):
        return True
    try:
        return socket_has_news(dbapi_connection.fileno())
    except (OSError, ValueError, AttributeError):  # no usable socket: ask the server
        return True


def install_liveness_check(engine: Engine, max_idle: float = DEFAULT_MAX_IDLE_SECONDS) -> None:
    """Ping pooled connections of ``engine`` only when their socket or their idle time says so."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop(_IDLE_SINCE, None)
        if idle_since is None:  # fresh from connect(): nothing to doubt
            return
        if not needs_ping(dbapi_connection, time.monotonic() - idle_since, max_idle):
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # any failure means: do not hand this connection out
            raise exc.DisconnectionError(f"pooled connection failed its ping: {error}") from error
