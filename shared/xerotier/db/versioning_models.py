"""Tables of versioning: the promotion history (every move of the latest pointer) and pending promotions.

``promotion_events`` is append-only and keyed by ``(project_id, name)`` (not by a version row) so the
history survives deleting a version; ``pending_promotions`` holds at most one request per name, for a
version that is not ready yet (applied when it becomes ready, dropped when it ends in error).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from xerotier.db.models import Base, BigIntPK, utcnow


class PromotionEvent(Base):
    """One change of the latest pointer of ``(project_id, name)``: from, to, kind, who, when."""

    __tablename__ = "promotion_events"
    __table_args__ = (Index("ix_promotion_events_project_name", "project_id", "name", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # promote | rollback | first-ready | alias-set | -delete
    from_model_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    from_version: Mapped[str | None] = mapped_column(String(128))
    to_model_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    to_version: Mapped[str | None] = mapped_column(String(128))
    actor_key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # None: the system (first-ready)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    alias: Mapped[str | None] = mapped_column(String(64))  # the alias moved (alias-set | alias-delete)


class PendingPromotion(Base):
    """A promotion requested while the version was uploading or validating (one per name)."""

    __tablename__ = "pending_promotions"
    __table_args__ = (Index("uq_pending_promotions_project_name", "project_id", "name", unique=True),)

    model_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("models.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # promote | rollback
    actor_key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
