"""The hot paths on the event loop (PostgreSQL): the API key lookup, the model list and catalog
pages, and creating a version (the one write here: a short pipelined ``transaction``).

Through the synchronous engine a read is a trip to the thread pool and back (two thread wake-ups:
about a quarter of a millisecond over HTTP on this class of machine). Here it runs on the event
loop with psycopg's async connections, a few of them kept open, each checked before reuse the way
the pool checks its own (``liveness``): a readable socket or a long idleness means it is closed
and replaced, so a restarted server costs no failed request.

Statements are SQLAlchemy's, compiled once for psycopg (``compile_for_psycopg``, ``compile_insert``).
psycopg prepares a statement on its fifth run; the reader's sessions then keep its generic plan
(``plan_cache_mode=force_generic_plan``). Left on ``auto``, PostgreSQL kept planning the model-list
page afresh on every run (its custom plan looks cheaper than the generic one), and that planning
took about 50 µs of a 130 µs query. Every statement run here is one of ours, written to be
index-bounded under a generic plan (name prefixes carry an upper bound, ``listing.prefix_successor``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any

import psycopg
from psycopg import pq
from sqlalchemy import Table, insert
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url
from sqlalchemy.sql import ClauseElement

from xerotier.db.liveness import DEFAULT_MAX_IDLE_SECONDS, needs_ping
from xerotier.errors import TransientError

#: Session option of the reader's connections: a prepared statement is planned once.
GENERIC_PLANS = "-c plan_cache_mode=force_generic_plan"


def compile_for_psycopg(statement: ClauseElement) -> str:
    """``statement`` as PostgreSQL text with ``%(name)s`` placeholders (its bind parameter names).

    Only named placeholders may be left: a value bound inside the statement would be lost here."""
    compiled = statement.compile(dialect=postgresql.dialect(paramstyle="pyformat"))
    embedded = sorted(name for name, value in compiled.params.items() if value is not None)
    if embedded:
        raise ValueError(f"statement carries values of its own ({', '.join(embedded)}): use bindparam()")
    return str(compiled)


def compile_insert(table: Table, keys: Iterable[str], returning: Any = None) -> tuple[str, dict[str, Any]]:
    """``INSERT`` of the columns ``keys`` as psycopg text, and the values of every other column's
    scalar default (the ORM's ``default=``, applied by SQLAlchemy, not by the database): run it with
    ``{**defaults, **values}``. A column left out must have a scalar default or none."""
    keys = list(keys)
    statement = insert(table) if returning is None else insert(table).returning(returning)
    compiled = statement.compile(dialect=postgresql.dialect(paramstyle="pyformat"), column_keys=keys)
    defaults: dict[str, Any] = {}
    for name in compiled.params:
        if name in keys:
            continue
        default = table.c[name].default
        if default is None or not default.is_scalar:
            raise ValueError(f"column {name} has no scalar default: give it a value")
        defaults[name] = default.arg
    return str(compiled), defaults


def conninfo(sqlalchemy_url: str) -> str:
    """A libpq connection string from the engine's URL (``postgresql+psycopg://…``)."""
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


class AsyncReader:
    """At most ``size`` autocommit connections, opened on demand on the running loop."""

    def __init__(self, dsn: str, size: int = 4, max_idle: float = DEFAULT_MAX_IDLE_SECONDS) -> None:
        self._dsn = dsn
        self._max_idle = max_idle
        self._slots = asyncio.Semaphore(size)
        self._idle: list[tuple[psycopg.AsyncConnection[Any], float]] = []

    async def fetch_one(self, sql: str, params: Any) -> tuple[Any, ...] | None:
        rows = await self._run(sql, params)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Any) -> list[tuple[Any, ...]]:
        return await self._run(sql, params)

    async def execute(self, sql: str, params: Any) -> None:
        await self._run(sql, params)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """One short transaction, in pipeline mode: a statement whose result is not awaited travels
        with the next one (``BEGIN`` with the first query, ``COMMIT`` with the last writes).

        Errors surface where results are awaited, or at the end of the block."""
        async with self._slots:
            connection = await self._checkout()
            try:
                async with connection.pipeline(), connection.transaction():
                    yield connection
            except psycopg.OperationalError as error:
                await connection.close()
                raise TransientError(f"Database unavailable: {type(error).__name__}") from error
            except Exception:
                await self._release(connection)  # rolled back by the block: reusable if idle
                raise
            except BaseException:
                await connection.close()  # cancelled: in doubt
                raise
            await self._release(connection)

    async def _release(self, connection: psycopg.AsyncConnection[Any]) -> None:
        if connection.info.transaction_status == pq.TransactionStatus.IDLE:
            self._idle.append((connection, time.monotonic()))
        else:
            await connection.close()

    async def close(self) -> None:
        while self._idle:
            connection, _ = self._idle.pop()
            await connection.close()

    async def _run(self, sql: str, params: Any) -> list[tuple[Any, ...]]:
        async with self._slots:
            connection = await self._checkout()
            try:
                cursor = await connection.execute(sql, params)
                rows = await cursor.fetchall() if cursor.description is not None else []
            except psycopg.OperationalError as error:
                await connection.close()
                raise TransientError(f"Database unavailable: {type(error).__name__}") from error
            except BaseException:
                await connection.close()  # a cancelled or failed statement leaves it in doubt
                raise
            self._idle.append((connection, time.monotonic()))
            return rows

    async def _checkout(self) -> psycopg.AsyncConnection[Any]:
        while self._idle:
            connection, since = self._idle.pop()
            if not needs_ping(connection, time.monotonic() - since, self._max_idle):
                return connection
            await connection.close()  # its server went away or it sat too long: a fresh one
        try:
            return await psycopg.AsyncConnection.connect(self._dsn, autocommit=True, options=GENERIC_PLANS)
        except psycopg.OperationalError as error:
            raise TransientError(f"Database unavailable: {type(error).__name__}") from error
