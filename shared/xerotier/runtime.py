"""The process's connections, built on first use from the settings (never at import time)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property

from celery import Celery
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from xerotier.db.engine import make_engine, make_session_factory
from xerotier.queue import outbox
from xerotier.queue.celery_app import make_celery
from xerotier.settings import Settings, get_settings
from xerotier.storage.blobs import BlobStore
from xerotier.storage.factory import make_blob_store

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    services: list[str] = field(default_factory=list)

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.resolved_database_url)

    @cached_property
    def session_factory(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    @cached_property
    def celery(self) -> Celery:
        return make_celery(self.settings, self.services)

    @cached_property
    def blobs(self) -> BlobStore:
        return make_blob_store(self.settings)

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """A transaction; the tasks it wrote to the outbox are published right after commit."""
        with self.session_factory() as session:
            yield session
            session.commit()
            pending = outbox.take_pending(session)
        if pending:
            try:
                outbox.relay(self.session_factory, self.celery, ids=pending)
            except Exception:  # the relay loop publishes them later
                log.exception("outbox: immediate publish failed")

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()


_runtime: Runtime | None = None


def get_runtime() -> Runtime:
    global _runtime
    if _runtime is None:
        _runtime = Runtime(get_settings())
    return _runtime


def set_runtime(runtime: Runtime | None) -> None:
    """Install ``runtime`` as the process's (workers, tests, ``xerotier up``)."""
    global _runtime
    if _runtime is not None and _runtime is not runtime:
        _runtime.close()
    _runtime = runtime


def forget_runtime() -> None:
    """Drop the inherited runtime without closing its connections (they belong to the parent)."""
    global _runtime
    if _runtime is not None and "engine" in _runtime.__dict__:
        _runtime.engine.dispose(close=False)
    _runtime = None
