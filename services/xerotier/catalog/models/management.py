"""Model management use cases: list (filters, keyset pages), rename, update, delete a version or a model."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, String, bindparam, delete, or_, select, tuple_, update
from sqlalchemy.orm import Session

from xerotier.catalog.models.listing import (
    MAX_LIMIT,
    WORKLOAD_TYPES,
    ListFilter,
    decode_cursor,
    encode_cursor,
    like_prefix,
    prefix_successor,
)
from xerotier.catalog.versions.promotion import move_latest, owned
from xerotier.db import blob_refs
from xerotier.db.latest import lock_name, lock_name_of, reload_after_lock
from xerotier.db.models import Endpoint, Model, ModelFile
from xerotier.db.reads import autocommit_connection
from xerotier.db.registry_models import ModelTag, RegisteredModel, VersionTag
from xerotier.db.versioning_models import PendingPromotion, PromotionEvent
from xerotier.domain.lifecycle import SERVABLE, ModelStatus
from xerotier.domain.names import check_model_name
from xerotier.domain.versioning import PromotionKind, newest_first
from xerotier.errors import Conflict, InvalidInput
from xerotier.runtime import Runtime

UNSET: Any = object()


@dataclass(frozen=True)
class Page:
    rows: list[Any]  # rows of the models table: the attributes of ``Model``, read without the ORM
    next_cursor: str | None


_MODELS = Model.__table__


def list_query(project_id: str, flt: ListFilter, cursor: str | None, limit: int, postgres: bool) -> Select:
    """The keyset page query with its values bound (for ``EXPLAIN``; requests bind at execution)."""
    return list_statement(flt, cursor, postgres).params(list_params(project_id, flt, cursor, limit))


def list_statement(flt: ListFilter, cursor: str | None, postgres: bool) -> Select:
    """``WHERE (name, id) > :after ORDER BY name, id LIMIT :limit``, with the filters ``flt`` uses."""
    return _list_statement(
        all_versions=flt.all_versions,
        status=flt.status is not None,
        architecture=flt.architecture is not None,
        workload_type=flt.workload_type is not None,
        name_prefix=bool(flt.name_prefix),
        name_below=bool(flt.name_prefix) and prefix_successor(flt.name_prefix or "") is not None,
        cursor=bool(cursor),
        postgres=postgres,
        tags=len(flt.tags),
    )


def list_params(project_id: str, flt: ListFilter, cursor: str | None, limit: int) -> dict[str, Any]:
    """The values bound into ``_list_statement``'s placeholders."""
    values: dict[str, Any] = {
        "project_id": project_id,
        "status": flt.status,
        "architecture": flt.architecture,
        "workload_type": flt.workload_type,
        "limit": limit + 1,
    }
    if flt.name_prefix:
        values["name_from"], values["name_like"] = flt.name_prefix, like_prefix(flt.name_prefix)
        values["name_below"] = prefix_successor(flt.name_prefix)  # None: no upper bound exists
    if cursor:
        values["after_name"], values["after_id"] = decode_cursor(cursor)
    for i, (key, value) in enumerate(flt.tags):
        values[f"tag_key_{i}"], values[f"tag_value_{i}"] = key, value
    return values


@functools.cache
def _list_statement(
    *,
    all_versions: bool,
    status: bool,
    architecture: bool,
    workload_type: bool,
    name_prefix: bool,
    name_below: bool,
    cursor: bool,
    postgres: bool,
    tags: int = 0,
) -> Select:
    """One statement per combination of filters, with placeholders: building a statement costs more
    than running this one, so each of the few dozen shapes is built once."""
    c = _MODELS.c
    name_col = c.name.collate("C") if postgres else c.name
    query = select(_MODELS).where(c.project_id == bindparam("project_id"))
    if not all_versions:
        query = query.where(c.is_latest)
    for present, column in (
        (status, c.status),
        (architecture, c.architecture),
        (workload_type, c.workload_type),
    ):
        if present:
            query = query.where(column == bindparam(column.key))
    if name_prefix:
        query = query.where(
            name_col >= bindparam("name_from"), name_col.like(bindparam("name_like"), escape="\\")
        )
    if name_below:  # a bounded index range even under a generic plan
        query = query.where(name_col < bindparam("name_below", type_=c.name.type))
    for i in range(tags):
        query = query.where(has_tag(i))
    if cursor:
        after = tuple_(bindparam("after_name", type_=c.name.type), bindparam("after_id", type_=c.id.type))
        query = query.where(tuple_(name_col, c.id) > after)
    return query.order_by(name_col, c.id).limit(bindparam("limit", type_=Integer))


def has_tag(i: int) -> ColumnElement[bool]:
    """The version, or its model, carries the tag ``(:tag_key_i, :tag_value_i)``."""
    c = _MODELS.c
    key, value = bindparam(f"tag_key_{i}", type_=String()), bindparam(f"tag_value_{i}", type_=String())
    on_version = (
        select(VersionTag.model_id)
        .where(VersionTag.model_id == c.id, VersionTag.key == key, VersionTag.value == value)
        .exists()
    )
    on_model = (
        select(ModelTag.key)
        .join(RegisteredModel, RegisteredModel.id == ModelTag.registered_model_id)
        .where(
            RegisteredModel.project_id == c.project_id,
            RegisteredModel.name == c.name,
            ModelTag.key == key,
            ModelTag.value == value,
        )
        .exists()
    )
    return or_(on_version, on_model)


def list_models(
    runtime: Runtime, project_id: str, flt: ListFilter, cursor: str | None = None, limit: int = 50
) -> Page:
    """One page ordered by (name, id) bytewise; the cursor resumes after the last row (insert-stable)."""
    flt.check()
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}")
    statement = list_statement(flt, cursor, runtime.engine.dialect.name == "postgresql")
    values = list_params(project_id, flt, cursor, limit)
    with autocommit_connection(runtime.engine) as connection:
        rows = list(connection.execute(statement, values))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor(rows[-1].name, rows[-1].id) if more and rows else None)


def check_name(name: Any) -> str:
    return check_model_name(name)  # the documented rule (xerotier.domain.names)


def rename(runtime: Runtime, project_id: str, model_id: uuid.UUID, new_name: str) -> Model:
    """Rename every version of the model's name; the new name must be free in the project."""
    new_name = check_name(new_name)
    with runtime.unit_of_work() as session:
        anchor = owned(session, model_id, project_id)
        old_name = anchor.name
        if new_name != old_name:
            for name in sorted({old_name, new_name}):
                lock_name(session, project_id, name)
            taken = session.scalar(
                select(Model.id).where(Model.project_id == project_id, Model.name == new_name)
            )
            if taken is not None:
                raise Conflict(f"A model named '{new_name}' already exists in this project")
            session.execute(  # a registered model of the new name without versions is a leftover
                delete(RegisteredModel).where(
                    RegisteredModel.project_id == project_id, RegisteredModel.name == new_name
                )
            )
            for table in (Model, PendingPromotion, PromotionEvent, RegisteredModel):
                session.execute(
                    update(table)
                    .where(table.project_id == project_id, table.name == old_name)
                    .values(name=new_name)
                    .execution_options(synchronize_session=False)
                )
            session.execute(
                update(Endpoint)
                .where(Endpoint.model_project_id == project_id, Endpoint.model_name == old_name)
                .values(model_name=new_name)
                .execution_options(synchronize_session=False)
            )
    with runtime.session_factory() as session:
        return owned(session, model_id, project_id)


def update_version(
    runtime: Runtime,
    project_id: str,
    model_id: uuid.UUID,
    *,
    workload_type: Any = UNSET,
    version_notes: Any = UNSET,
) -> Model:
    """Change the workload type and/or notes of one version (fields not given stay as they are)."""
    values: dict[str, Any] = {}
    if workload_type is not UNSET:
        if workload_type is not None and workload_type not in WORKLOAD_TYPES:
            raise InvalidInput(
                f"Invalid workloadType '{workload_type}': expected one of {', '.join(WORKLOAD_TYPES)}"
            )
        values["workload_type"] = workload_type
    if version_notes is not UNSET:
        if version_notes is not None and (not isinstance(version_notes, str) or len(version_notes) > 10_000):
            raise InvalidInput("versionNotes must be a string of at most 10000 characters")
        values["version_notes"] = version_notes
    if not values:
        raise InvalidInput("Nothing to update: give workloadType and/or versionNotes")
    with runtime.unit_of_work() as session:
        model = owned(session, model_id, project_id)
        for key, value in values.items():
            setattr(model, key, value)
    with runtime.session_factory() as session:
        return owned(session, model_id, project_id)


def _release_files(session: Session, model: Model) -> None:
    query = select(ModelFile.sha256).where(ModelFile.model_id == model.id).order_by(ModelFile.sha256)
    for sha in session.scalars(query):  # digest order: the lock order of every blob-count writer
        blob_refs.release_ref(session, sha)


def _refuse_active(model: Model) -> None:
    if model.status == ModelStatus.ACTIVE:
        raise Conflict(f"Version {model.version} is active on endpoints; stop serving it before deleting it")


def delete_version(
    runtime: Runtime, project_id: str, model_id: uuid.UUID, *, force: bool, actor: uuid.UUID | None
) -> tuple[list[Model], Model | None]:
    """Delete one version (its blob references released). The latest, while other versions exist,
    only with ``force``: the highest remaining ready version then becomes latest (a rollback)."""
    with runtime.unit_of_work() as session:
        lock_name_of(session, project_id, model_id)
        model = reload_after_lock(session, model_id)  # a concurrent delete is a 404, never a 500
        _refuse_active(model)
        others = list(
            session.scalars(
                select(Model).where(
                    Model.project_id == project_id, Model.name == model.name, Model.id != model.id
                )
            )
        )
        if model.is_latest and others and not force:
            raise Conflict(
                f"Version {model.version} is the latest of '{model.name}' and other versions exist;"
                " promote another version first, or delete with force"
            )
        was_latest, deleted = model.is_latest, _snapshot(model)
        _release_files(session, model)
        session.execute(
            update(Model)
            .where(Model.parent_version_id == model.id)
            .values(parent_version_id=model.parent_version_id)
            .execution_options(synchronize_session=False)
        )
        session.delete(model)
        session.flush()
        if not others:  # the last version: the model goes with it
            session.execute(
                delete(RegisteredModel).where(
                    RegisteredModel.project_id == project_id, RegisteredModel.name == deleted.name
                )
            )
        new_latest = None
        if was_latest:
            servable = [m for m in others if m.status in SERVABLE]
            if servable:
                new_latest = newest_first(servable, lambda m: m.version)[0]
                move_latest(session, new_latest, PromotionKind.ROLLBACK, actor, replaced=deleted)
        latest_id = new_latest.id if new_latest else None
    with runtime.session_factory() as session:
        return [deleted], (session.get(Model, latest_id) if latest_id else None)


def delete_model(runtime: Runtime, project_id: str, model_id: uuid.UUID) -> list[Model]:
    """Delete every version of the model's name (refused while one is active), and its history."""
    with runtime.unit_of_work() as session:
        anchor = owned(session, model_id, project_id)
        name = anchor.name
        lock_name(session, project_id, name)
        versions = list(
            session.scalars(select(Model).where(Model.project_id == project_id, Model.name == name))
        )
        for version in versions:
            session.refresh(version)
            _refuse_active(version)
        deleted = [_snapshot(v) for v in versions]
        for version in versions:
            _release_files(session, version)
        session.execute(
            update(Model)
            .where(Model.project_id == project_id, Model.name == name)
            .values(parent_version_id=None, is_latest=False)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            delete(PromotionEvent).where(PromotionEvent.project_id == project_id, PromotionEvent.name == name)
        )
        session.execute(
            delete(RegisteredModel).where(
                RegisteredModel.project_id == project_id, RegisteredModel.name == name
            )
        )
        session.execute(
            delete(Model)
            .where(Model.project_id == project_id, Model.name == name)
            .execution_options(synchronize_session=False)
        )
    return deleted


def _snapshot(model: Model) -> Model:
    """A detached copy of the fields a deletion reports."""
    return Model(
        id=model.id,
        project_id=model.project_id,
        name=model.name,
        version=model.version,
        status=model.status,
        is_latest=model.is_latest,
        parent_version_id=model.parent_version_id,
    )
