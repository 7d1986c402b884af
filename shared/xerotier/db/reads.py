"""Read-only connections without a transaction, for the hot request paths (auth, catalog pages).

A single-statement read needs no transaction: in autocommit mode the driver sends neither ``BEGIN``
before the query nor ``ROLLBACK`` when the connection returns to the pool — two round trips fewer
per read, which matters most when the machine is busy (each round trip waits on the scheduler).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session


@contextmanager
def autocommit_connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        yield connection.execution_options(isolation_level="AUTOCOMMIT")


@contextmanager
def autocommit_session(engine: Engine) -> Iterator[Session]:
    """A session for reads only (on SQLite the engine still opens a transaction: never write here)."""
    with autocommit_connection(engine) as connection, Session(bind=connection) as session:
        yield session
