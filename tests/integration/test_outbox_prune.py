"""The outbox does not grow without bound: published rows past the retention are deleted in batches,
rows not yet published (or published recently) stay. On PostgreSQL and SQLite alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from xerotier.db.models import OutboxMessage
from xerotier.queue import names, outbox
from xerotier.runtime import Runtime


def _add(runtime: Runtime, count: int, published_at: datetime | None) -> None:
    with runtime.session_factory() as session:
        for _ in range(count):
            row = outbox.enqueue(session, names.VALIDATE, model_id="no-such-model")
            row.published_at = published_at
        session.commit()


def _count(runtime: Runtime, *where: object) -> int:
    with runtime.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(OutboxMessage).where(*where)) or 0)


@pytest.mark.integration
@pytest.mark.parametrize("runtime_fixture", ["pg_runtime", "sqlite_runtime"])
def test_prune_deletes_only_rows_published_before_the_retention(runtime_fixture, request):
    runtime: Runtime = request.getfixturevalue(runtime_fixture)
    now = datetime.now(UTC)
    _add(runtime, 25, now - timedelta(hours=48))  # old: to delete
    _add(runtime, 4, now - timedelta(minutes=5))  # published recently: kept
    _add(runtime, 3, None)  # never published: kept whatever its age

    deleted = outbox.prune_published(runtime.session_factory, timedelta(hours=24), batch=10)

    assert deleted == 25  # three batches (10, 10, 5)
    assert _count(runtime) == 7
    assert _count(runtime, OutboxMessage.published_at.is_(None)) == 3
    assert outbox.prune_published(runtime.session_factory, timedelta(hours=24), batch=10) == 0


@pytest.mark.integration
def test_one_call_is_bounded(sqlite_runtime):
    _add(sqlite_runtime, 30, datetime.now(UTC) - timedelta(days=3))
    factory = sqlite_runtime.session_factory
    pruned = outbox.prune_published(factory, timedelta(hours=1), batch=8, max_batches=2)
    assert pruned == 16
    assert _count(sqlite_runtime) == 14
