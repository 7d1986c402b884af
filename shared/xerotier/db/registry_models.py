"""Tables of a model's own identity: the registered model, its aliases and its tags.

``registered_models`` has one row per ``(project_id, name)``: the model as a whole, independent of
any version (deleting a version never touches it; renaming moves it; deleting the model removes it).
Aliases (``champion`` → a version) and model tags hang off it; version tags off a version row.
An alias whose version is deleted disappears with it (``ON DELETE CASCADE``).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from xerotier.db.models import Base, utcnow


class RegisteredModel(Base):
    __tablename__ = "registered_models"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ModelAlias(Base):
    """``alias`` of a registered model points at one of its versions (unique per model)."""

    __tablename__ = "model_aliases"

    registered_model_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("registered_models.id", ondelete="CASCADE"), primary_key=True
    )
    alias: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("models.id", ondelete="CASCADE"), index=True)
    actor_key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModelTag(Base):
    __tablename__ = "model_tags"

    registered_model_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("registered_models.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class VersionTag(Base):
    __tablename__ = "version_tags"

    model_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("models.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
