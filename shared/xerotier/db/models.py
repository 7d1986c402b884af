"""SQLAlchemy 2 typed tables: the data model of DESIGN.md §4.

One ``Model`` row per *version*; versions of a model share ``(project_id, name)``. Invariants live
in the database: ``UNIQUE (project_id, name, version)`` and at most one ``is_latest`` row per
``(project_id, name)`` (a partial unique index on PostgreSQL and SQLite alike).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    event,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from xerotier.domain.semver import DEFAULT_VERSION
from xerotier.domain.versioning import sort_key

#: A 64-bit autoincrement key that SQLite also autoincrements (it only does so for INTEGER).
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # proj_…
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    lookup: Mapped[str] = mapped_column(String(16), unique=True)  # first characters of the secret
    secret_hash: Mapped[str] = mapped_column(String(64))  # keyed SHA-256 of the secret, hex
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


#: bytewise comparison on PostgreSQL too (its default collation ignores punctuation)
VERSION_KEY_TYPE = String(512).with_variant(String(512, collation="C"), "postgresql")


class Model(Base):
    """One version of a model, with its lifecycle status and the seed's metadata."""

    __tablename__ = "models"
    __table_args__ = (
        UniqueConstraint("project_id", "name", "version"),
        Index(
            "uq_models_one_latest",
            "project_id",
            "name",
            unique=True,
            postgresql_where=text("is_latest"),
            sqlite_where=text("is_latest"),
        ),
        Index("ix_models_status_deadline", "status", "deadline_at"),
        # migration 0010: deletes find children by index; versions page by precedence
        Index("ix_models_parent_version_id", "parent_version_id"),
        Index("ix_models_name_version_key", "project_id", "name", "version_key", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(128), default="1.0.0")
    parent_version_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("models.id", ondelete="SET NULL"))
    #: ``sort_key(version)``: bytewise order is SemVer precedence (keyset pages of versions)
    version_key: Mapped[str | None] = mapped_column(VERSION_KEY_TYPE)
    is_latest: Mapped[bool] = mapped_column(Boolean, default=False)
    version_notes: Mapped[str | None] = mapped_column(Text)
    format: Mapped[str | None] = mapped_column(String(32))
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    workload_type: Mapped[str | None] = mapped_column(String(32))

    # lifecycle
    status: Mapped[str] = mapped_column(String(16))
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    deadline_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    validation_error: Mapped[str | None] = mapped_column(Text)

    # metadata of the seed
    architecture: Mapped[str | None] = mapped_column(String(64))
    parameter_count: Mapped[int | None] = mapped_column(BigInteger)
    context_length: Mapped[int | None] = mapped_column(Integer)
    license: Mapped[str | None] = mapped_column(String(200))
    is_multimodal: Mapped[bool] = mapped_column(Boolean, default=False)
    default_temperature: Mapped[float | None] = mapped_column(Float)
    default_top_p: Mapped[float | None] = mapped_column(Float)
    chat_template: Mapped[str | None] = mapped_column(Text)
    is_pre_quantized: Mapped[bool] = mapped_column(Boolean, default=False)
    pre_quantization_method: Mapped[str | None] = mapped_column(String(64))
    pre_quantization_bits: Mapped[float | None] = mapped_column(Float)
    num_experts: Mapped[int | None] = mapped_column(Integer)
    num_experts_per_tok: Mapped[int | None] = mapped_column(Integer)
    extra_metadata: Mapped[dict[str, Any] | None]  # modelType, architectures, …
    extractor_version: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[dict[str, Any] | None]  # where the files came from (hub repo and commit, bucket …)

    # sharing
    is_shared: Mapped[bool] = mapped_column(Boolean, default=False)
    catalog_role: Mapped[str | None] = mapped_column(String(32))
    featured: Mapped[bool] = mapped_column(Boolean, default=False)
    deployment_count: Mapped[int] = mapped_column(Integer, default=0)
    shared_at: Mapped[datetime | None]

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


@event.listens_for(Model, "before_insert")
def _fill_version_key(_mapper: Any, _connection: Any, target: Model) -> None:
    """Rows added through the ORM get their sort key (Core inserts pass ``version_key`` themselves)."""
    if target.version_key is None:
        target.version_key = sort_key(target.version or DEFAULT_VERSION)


class ModelFile(Base):
    __tablename__ = "model_files"
    __table_args__ = (UniqueConstraint("model_id", "path"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(1024))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"), index=True)
    header: Mapped[dict[str, Any] | None]  # tensor index extracted by validation
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Blob(Base):
    """A content-addressed blob; ``refcount`` counts the ``model_files`` rows that use it."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    refcount: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_at: Mapped[datetime | None]


class LifecycleEventRow(Base):
    """Append-only log of status changes (and re-drives, where ``from_status == to_status``)."""

    __tablename__ = "lifecycle_events"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """A task to publish, written in the transaction that caused it (transactional outbox)."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index(
            "ix_outbox_pending",
            "available_at",
            postgresql_where=text("published_at IS NULL"),
            sqlite_where=text("published_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(String(200), unique=True)
    task_name: Mapped[str] = mapped_column(String(200))
    queue: Mapped[str] = mapped_column(String(200))
    kwargs: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    available_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    published_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # The request that caused the task, so a late publish (the relay) still carries it.
    request_id: Mapped[str | None] = mapped_column(String(128))


class Endpoint(Base):
    __tablename__ = "endpoints"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    model_project_id: Mapped[str] = mapped_column(String(40))  # owner of the model (catalog)
    model_name: Mapped[str] = mapped_column(String(200))
    tier: Mapped[str] = mapped_column(String(32))
    resolved_model_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    status: Mapped[str] = mapped_column(String(32), default="pending")
    status_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]
    # the roll-out (xerotier.domain.rollout): what serves now, what is being loaded to replace it
    serving_model_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # set only on an acknowledgment
    serving_load_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    target_model_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # loading / rolling to
    last_request_at: Mapped[datetime | None]  # the router's last request (scale to zero)


class EndpointEventRow(Base):
    """Append-only log of an endpoint's serving transitions (``xerotier.domain.rollout``)."""

    __tablename__ = "endpoint_events"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    endpoint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("endpoints.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    from_model_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    to_model_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Backend(Base):
    """A GPU worker (agent) and its inventory."""

    __tablename__ = "backends"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    queue: Mapped[str] = mapped_column(String(120))
    inventory: Mapped[dict[str, Any]]
    inventory_source: Mapped[str] = mapped_column(String(16))  # discovered | declared
    options: Mapped[dict[str, Any] | None]
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)


class Load(Base):
    __tablename__ = "loads"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    endpoint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("endpoints.id", ondelete="CASCADE"), index=True)
    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), index=True)
    backend_id: Mapped[str | None] = mapped_column(ForeignKey("backends.id", ondelete="SET NULL"))
    plan: Mapped[dict[str, Any] | None]
    status: Mapped[str] = mapped_column(String(32), default="placing")
    ack: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    acked_at: Mapped[datetime | None]
