"""Reference counts of content-addressed blobs, kept in the ``blobs`` table."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from xerotier.db.models import Blob, ModelFile
from xerotier.db.results import rowcount

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def add_ref(session: Session, sha256: str, size: int) -> None:
    """Count one more user of ``sha256`` (creating its row)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(Blob).values(
        sha256=sha256, size_bytes=size, refcount=1, created_at=datetime.now(UTC)
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[Blob.sha256],
        set_={"refcount": Blob.refcount + 1, "released_at": None},
    )
    session.execute(stmt)


def release_ref(session: Session, sha256: str) -> None:
    session.execute(
        update(Blob)
        .where(Blob.sha256 == sha256, Blob.refcount > 0)
        .values(
            refcount=Blob.refcount - 1,
            released_at=datetime.now(UTC),
        )
        .execution_options(synchronize_session=False)
    )


def unreferenced(session: Session, limit: int = 1000, released_before: datetime | None = None) -> list[str]:
    query = select(Blob.sha256).where(Blob.refcount == 0)
    if released_before is not None:
        query = query.where(Blob.released_at < released_before)
    return list(session.scalars(query.limit(limit)))


def release_model_files(session: Session, model_id: uuid.UUID) -> list[str]:
    """Drop every file row of ``model_id`` and release its blobs; the digests released are returned.

    Call it inside the transaction that deletes the model; the collector removes blobs whose count
    reached zero once their grace period has passed.
    """
    # digest order: every writer of blob counts locks rows in this order, so none deadlock
    rows = list(
        session.scalars(select(ModelFile).where(ModelFile.model_id == model_id).order_by(ModelFile.sha256))
    )
    for row in rows:
        release_ref(session, row.sha256)
        session.delete(row)
    session.flush()
    return [row.sha256 for row in rows]


def forget_unreferenced(session: Session, sha256: str, released_before: datetime) -> bool:
    """Delete the row of ``sha256`` if it is still unreferenced and was released before the cutoff.

    The deletion holds the row (PostgreSQL: its lock; SQLite: the write lock) until the transaction
    ends: delete the bytes *before* committing, and an upload's ``add_ref`` of the same digest waits
    for it, then inserts a fresh row and places its own bytes (compare-and-set on ``refcount = 0``).
    """
    result = session.execute(
        delete(Blob)
        .where(Blob.sha256 == sha256, Blob.refcount == 0, Blob.released_at < released_before)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


def claim_orphan(session: Session, sha256: str) -> bool:
    """Take the row of stored bytes that have none (an upload crashed before recording them).

    Inserts an unreferenced row unless one exists (an upload holding or having taken it: then
    False). The caller deletes the bytes and this row in the same transaction, so an upload of the
    same digest waits on the row and finds the bytes gone, never half-gone.
    """
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(Blob)
        .values(sha256=sha256, size_bytes=0, refcount=0, created_at=datetime.now(UTC), released_at=_EPOCH)
        .on_conflict_do_nothing(index_elements=[Blob.sha256])
        .returning(Blob.sha256)
    )
    return session.execute(stmt).scalar() is not None


def forget_claimed(session: Session, sha256: str) -> None:
    session.execute(
        delete(Blob)
        .where(Blob.sha256 == sha256, Blob.refcount == 0)
        .execution_options(synchronize_session=False)
    )


def known_digests(session: Session, digests: list[str]) -> set[str]:
    """Those of ``digests`` that have a row (referenced or not)."""
    return set(session.scalars(select(Blob.sha256).where(Blob.sha256.in_(digests))))
