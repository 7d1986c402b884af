"""The blob collector: removes blobs no model file references any more.

A blob whose reference count reached zero is removed once it has been released for longer than
the grace period. Blobs present in the store without any row (an upload that crashed between
storing and recording) are removed once older than the grace period too.

Race-free by construction, whatever the grace period (0 included): bytes are deleted only inside
the transaction that deletes the blob's row with ``refcount = 0`` (or claims the row of stray
bytes), before it commits. An upload places its bytes only inside the transaction that takes the
same row (``record_file``: ``add_ref`` then ``place``). The row is the lock both must hold —
PostgreSQL's row lock and unique index, SQLite's single writer — so an upload either commits its
reference first (the collector's compare-and-set on ``refcount = 0`` then fails) or waits until the
collector is done and places its own bytes into an empty slot.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from xerotier.db import blob_refs
from xerotier.storage.blobs import BlobStore

log = logging.getLogger(__name__)
BATCH = 500


@dataclass
class CollectReport:
    removed: list[str] = field(default_factory=list)  # unreferenced blobs deleted
    orphans: list[str] = field(default_factory=list)  # stored bytes with no row, deleted
    kept_recent: int = 0  # unreferenced but touched within the grace period


def collect(
    session_factory: sessionmaker[Session],
    store: BlobStore,
    grace: timedelta,
    now: datetime | None = None,
) -> CollectReport:
    """One collection pass over the database rows and the stored blobs."""
    now = now or datetime.now(UTC)
    cutoff = now - grace
    report = CollectReport()
    with session_factory() as session:
        candidates = blob_refs.unreferenced(session, limit=100_000, released_before=cutoff)
    for sha256 in candidates:
        age = store.age_seconds(sha256)
        if age is not None and age < grace.total_seconds():
            report.kept_recent += 1
            continue
        with session_factory() as session:
            try:
                gone = blob_refs.forget_unreferenced(session, sha256, cutoff)
            except IntegrityError:  # a file row still points at it: the count was wrong, keep it
                session.rollback()
                log.warning("blob %s has refcount 0 but is still referenced; kept", sha256)
                continue
            if gone:
                store.delete(sha256)  # still holding the row: no upload can place these bytes now
            session.commit()
        if gone:
            report.removed.append(sha256)
    report.orphans = _sweep_orphans(session_factory, store, cutoff.timestamp())
    return report


def _sweep_orphans(session_factory: sessionmaker[Session], store: BlobStore, cutoff: float) -> list[str]:
    removed: list[str] = []
    batch: list[str] = []

    def flush() -> None:
        with session_factory() as session:
            known = blob_refs.known_digests(session, batch)
        for sha256 in batch:
            if sha256 in known:
                continue
            with session_factory() as session:
                if blob_refs.claim_orphan(session, sha256):  # None took the row: it is ours now
                    store.delete(sha256)
                    blob_refs.forget_claimed(session, sha256)
                    removed.append(sha256)
                session.commit()
        batch.clear()

    for sha256, mtime in store.iter_blobs():
        if mtime < cutoff:
            batch.append(sha256)
            if len(batch) >= BATCH:
                flush()
    if batch:
        flush()
    return removed
