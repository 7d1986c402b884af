"""The API key lookup on the event loop (PostgreSQL), so authenticating costs no thread hop.

Every authenticated request needs one indexed read before its route runs. Through the synchronous
engine that read is a trip to the thread pool and back (two thread wake-ups: about a quarter of a
millisecond over HTTP on this class of machine) on top of the route's own trip. Here it runs on the
event loop with psycopg's async connections, a few of them kept open, each checked before reuse
the way the pool checks its own (``liveness``): a readable socket or a long idleness means it is
closed and replaced, so a restarted server costs no failed request.

The statement is the synchronous lookup's own (``projects.LOOKUP``), compiled once for psycopg.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import psycopg
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url

from xerotier.db.liveness import DEFAULT_MAX_IDLE_SECONDS, needs_ping
from xerotier.db.projects import LOOKUP
from xerotier.errors import TransientError

_SQL = str(LOOKUP.compile(dialect=postgresql.dialect(paramstyle="pyformat")))
_TOUCH = "UPDATE api_keys SET last_used_at = %s WHERE id = %s"


def conninfo(sqlalchemy_url: str) -> str:
    """A libpq connection string from the engine's URL (``postgresql+psycopg://…``)."""
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


class AsyncKeyLookup:
    """At most ``size`` autocommit connections, opened on demand on the running loop."""

    def __init__(self, dsn: str, size: int = 4, max_idle: float = DEFAULT_MAX_IDLE_SECONDS) -> None:
        self._dsn = dsn
        self._max_idle = max_idle
        self._slots = asyncio.Semaphore(size)
        self._idle: list[tuple[psycopg.AsyncConnection[Any], float]] = []

    async def find(self, lookup: str) -> tuple[Any, ...] | None:
        """The row of ``projects.LOOKUP`` for ``lookup``, or None."""
        return await self._run(_SQL, {"lookup": lookup}, fetch=True)

    async def touch(self, key_id: Any, when: Any) -> None:
        """Record the key's last use."""
        await self._run(_TOUCH, (when, key_id), fetch=False)

    async def close(self) -> None:
        while self._idle:
            connection, _ = self._idle.pop()
            await connection.close()

    async def _run(self, sql: str, params: Any, *, fetch: bool) -> tuple[Any, ...] | None:
        async with self._slots:
            connection = await self._checkout()
            try:
                cursor = await connection.execute(sql, params)
                row = await cursor.fetchone() if fetch else None
            except psycopg.OperationalError as error:
                await connection.close()
                raise TransientError(f"Database unavailable: {type(error).__name__}") from error
            except BaseException:
                await connection.close()  # a cancelled or failed statement leaves it in doubt
                raise
            self._idle.append((connection, time.monotonic()))
            return row

    async def _checkout(self) -> psycopg.AsyncConnection[Any]:
        while self._idle:
            connection, since = self._idle.pop()
            if not needs_ping(connection, time.monotonic() - since, self._max_idle):
                return connection
            await connection.close()  # its server went away or it sat too long: a fresh one
        try:
            return await psycopg.AsyncConnection.connect(self._dsn, autocommit=True)
        except psycopg.OperationalError as error:
            raise TransientError(f"Database unavailable: {type(error).__name__}") from error
