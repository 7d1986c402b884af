"""Aliases and tags use cases: move/delete an alias (recorded in the version history), set/delete
model and version tags, and the labels (aliases, tags) shown on every version.

An alias (``champion``) names one version of a model, unique per model; moving it is a short
transaction under the name's lock, like a promotion, and appends a ``PromotionEvent`` of kind
``alias-set`` or ``alias-delete`` (from, to, who, when). ``latest`` stays the ``isLatest`` pointer.
"""

from __future__ import annotations

import functools
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    CompoundSelect,
    Connection,
    String,
    Uuid,
    bindparam,
    cast,
    delete,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from xerotier.api.serialize import model_json
from xerotier.catalog.versions.promotion import find_version_row
from xerotier.db.latest import lock_name_of
from xerotier.db.model_refs import ensure_registered
from xerotier.db.models import Model
from xerotier.db.reads import autocommit_connection
from xerotier.db.registry_models import ModelAlias, ModelTag, RegisteredModel, VersionTag
from xerotier.db.results import rowcount
from xerotier.db.versioning_models import PromotionEvent
from xerotier.domain.model_ref import check_alias, check_tag, commit_of
from xerotier.errors import NotFound
from xerotier.runtime import Runtime


@dataclass
class Labels:
    aliases: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)  # of the version
    model_tags: dict[str, str] = field(default_factory=dict)  # of its model

    def json(self) -> dict[str, Any]:
        return {"aliases": sorted(self.aliases), "tags": self.tags, "modelTags": self.model_tags}


def labels_of(connection: Connection, project_id: str, versions: Iterable[Any]) -> dict[uuid.UUID, Labels]:
    """The aliases pointing at each version, its tags and its model's tags: one statement (three
    selects in a ``UNION ALL``) whatever the number of versions."""
    rows = list(versions)
    found: dict[uuid.UUID, Labels] = {r.id: Labels() for r in rows}
    if not rows:
        return found
    values = {"ids": [r.id for r in rows], "names": sorted({r.name for r in rows}), "project_id": project_id}
    by_name: dict[str, dict[str, str]] = defaultdict(dict)
    for kind, model_id, name, key, value in connection.execute(_labels_statement(), values):
        if kind == "a":
            found[model_id].aliases.append(key)
        elif kind == "v":
            found[model_id].tags[key] = value
        else:
            by_name[name][key] = value
    for row in rows:
        found[row.id].model_tags = dict(by_name.get(row.name, {}))
    return found


@functools.cache
def _labels_statement() -> CompoundSelect:
    """Built once (it runs on every read of a version): ``:ids``, ``:names`` expand at execution."""
    no_id, no_text = cast(null(), Uuid), cast(null(), String)
    ids: BindParameter[list[uuid.UUID]] = bindparam("ids", expanding=True)
    names: BindParameter[list[str]] = bindparam("names", expanding=True)
    return union_all(
        select(literal("a"), ModelAlias.model_id, no_text, ModelAlias.alias, no_text).where(
            ModelAlias.model_id.in_(ids)
        ),
        select(literal("v"), VersionTag.model_id, no_text, VersionTag.key, VersionTag.value).where(
            VersionTag.model_id.in_(ids)
        ),
        select(literal("m"), no_id, RegisteredModel.name, ModelTag.key, ModelTag.value)
        .join(ModelTag, ModelTag.registered_model_id == RegisteredModel.id)
        .where(RegisteredModel.project_id == bindparam("project_id"), RegisteredModel.name.in_(names)),
    )


def with_labels(runtime: Runtime, project_id: str, rows: list[Any], bodies: list[dict[str, Any]]) -> None:
    """Add ``aliases``, ``tags``, ``modelTags`` and ``commit`` (the version's stable 40-hex id on
    the Hub protocol) to each version's JSON (in place)."""
    with autocommit_connection(runtime.engine) as connection:
        labels = labels_of(connection, project_id, rows)
    for row, body in zip(rows, bodies, strict=True):
        body.update(labels[row.id].json(), commit=commit_of(row.id))


def labelled(runtime: Runtime, project_id: str, rows: list[Any]) -> list[dict[str, Any]]:
    """Each version's JSON (``model_json``) with its labels (``with_labels``)."""
    bodies = [model_json(row) for row in rows]
    with_labels(runtime, project_id, rows, bodies)
    return bodies


def labelled_read(read: Callable[..., Any], runtime: Runtime, project_id: str, *args: Any) -> Any:
    """``read(runtime, project_id, *args)`` (a row, a list of rows or a page with ``rows``) and the
    labelled JSON of its rows, in one call: one trip to the thread pool for the route."""
    found = read(runtime, project_id, *args)
    rows = found.rows if hasattr(found, "rows") else found if isinstance(found, list) else [found]
    return found, labelled(runtime, project_id, rows)


def alias_json(alias: ModelAlias, version: Any) -> dict[str, Any]:
    return {
        "alias": alias.alias,
        "version": version.version,
        "versionId": str(version.id),
        "who": str(alias.actor_key_id) if alias.actor_key_id else None,
        "updatedAt": alias.updated_at.isoformat(),
    }


def list_aliases(runtime: Runtime, project_id: str, model_id: uuid.UUID) -> list[dict[str, Any]]:
    with runtime.session_factory() as session:
        anchor = _owned(session, project_id, model_id)
        rows = session.execute(
            select(ModelAlias, Model)
            .join(Model, Model.id == ModelAlias.model_id)
            .join(RegisteredModel, RegisteredModel.id == ModelAlias.registered_model_id)
            .where(RegisteredModel.project_id == project_id, RegisteredModel.name == anchor.name)
            .order_by(ModelAlias.alias)
        ).all()
        return [alias_json(alias, version) for alias, version in rows]


def _owned(session: Session, project_id: str, model_id: uuid.UUID) -> Model:
    model = session.get(Model, model_id)
    if model is None or model.project_id != project_id:
        raise NotFound("Model not found")
    return model


def _record(session: Session, project_id: str, name: str, kind: str, alias: str, old: Any, new: Any,
            actor: uuid.UUID | None) -> None:  # fmt: skip
    session.add(
        PromotionEvent(
            project_id=project_id,
            name=name,
            kind=kind,
            alias=alias,
            from_model_id=old.id if old is not None else None,
            from_version=old.version if old is not None else None,
            to_model_id=new.id if new is not None else None,
            to_version=new.version if new is not None else None,
            actor_key_id=actor,
            created_at=datetime.now(UTC),
        )
    )


def set_alias(
    runtime: Runtime, project_id: str, model_id: uuid.UUID, alias: str, version: str, actor: uuid.UUID | None
) -> dict[str, Any]:
    """Point ``alias`` of the model at ``version`` (created or moved; unchanged if already there)."""
    check_alias(alias)
    with runtime.unit_of_work() as session:
        name = lock_name_of(session, project_id, model_id)
        target = find_version_row(session.connection(), project_id, name, version)
        registered = ensure_registered(session, project_id, name)
        row = session.get(ModelAlias, (registered, alias))
        old = session.get(Model, row.model_id) if row is not None else None
        if row is None:
            row = ModelAlias(registered_model_id=registered, alias=alias, model_id=target.id)
            session.add(row)
        if old is None or old.id != target.id:
            row.model_id, row.actor_key_id, row.updated_at = target.id, actor, datetime.now(UTC)
            _record(session, project_id, name, "alias-set", alias, old, target, actor)
        session.flush()
        return alias_json(row, target)


def delete_alias(
    runtime: Runtime, project_id: str, model_id: uuid.UUID, alias: str, actor: uuid.UUID | None
) -> dict[str, Any]:
    with runtime.unit_of_work() as session:
        name = lock_name_of(session, project_id, model_id)
        registered = ensure_registered(session, project_id, name)
        row = session.get(ModelAlias, (registered, alias))
        if row is None:
            raise NotFound(f"Model '{name}' has no alias '{alias}'")
        old = session.get_one(Model, row.model_id)
        body = alias_json(row, old)
        session.delete(row)
        _record(session, project_id, name, "alias-delete", alias, old, None, actor)
        return body


def model_tags(runtime: Runtime, project_id: str, model_id: uuid.UUID) -> dict[str, str]:
    with runtime.session_factory() as session:
        name = _owned(session, project_id, model_id).name
        return dict(
            session.execute(
                select(ModelTag.key, ModelTag.value)
                .join(RegisteredModel, RegisteredModel.id == ModelTag.registered_model_id)
                .where(RegisteredModel.project_id == project_id, RegisteredModel.name == name)
                .order_by(ModelTag.key)
            ).all()
        )


def set_model_tag(runtime: Runtime, project_id: str, model_id: uuid.UUID, key: str, value: Any) -> None:
    key, value = check_tag(key, value)
    with runtime.unit_of_work() as session:
        name = lock_name_of(session, project_id, model_id)
        registered = ensure_registered(session, project_id, name)
        row = session.get(ModelTag, (registered, key))
        if row is None:
            session.add(ModelTag(registered_model_id=registered, key=key, value=value))
        else:
            row.value = value


def delete_model_tag(runtime: Runtime, project_id: str, model_id: uuid.UUID, key: str) -> None:
    with runtime.unit_of_work() as session:
        name = lock_name_of(session, project_id, model_id)
        registered = ensure_registered(session, project_id, name)
        gone = session.execute(
            delete(ModelTag).where(ModelTag.registered_model_id == registered, ModelTag.key == key)
        )
        if not rowcount(gone):
            raise NotFound(f"Model '{name}' has no tag '{key}'")


def _version_of(session: Session, project_id: str, model_id: uuid.UUID, version: str | None) -> Model:
    anchor = _owned(session, project_id, model_id)
    if version is None:
        return anchor
    found = find_version_row(session.connection(), project_id, anchor.name, version)
    return session.get_one(Model, found.id)


def version_tags(
    runtime: Runtime, project_id: str, model_id: uuid.UUID, version: str | None
) -> dict[str, str]:
    with runtime.session_factory() as session:
        target = _version_of(session, project_id, model_id, version)
        query = select(VersionTag.key, VersionTag.value).where(VersionTag.model_id == target.id)
        return dict(session.execute(query.order_by(VersionTag.key)).all())


def set_version_tag(
    runtime: Runtime, project_id: str, model_id: uuid.UUID, version: str | None, key: str, value: Any
) -> uuid.UUID:
    key, value = check_tag(key, value)
    with runtime.unit_of_work() as session:
        target = _version_of(session, project_id, model_id, version)
        row = session.get(VersionTag, (target.id, key))
        if row is None:
            session.add(VersionTag(model_id=target.id, key=key, value=value))
        else:
            row.value = value
        return target.id


def delete_version_tag(
    runtime: Runtime, project_id: str, model_id: uuid.UUID, version: str | None, key: str
) -> uuid.UUID:
    with runtime.unit_of_work() as session:
        target = _version_of(session, project_id, model_id, version)
        gone = session.execute(
            delete(VersionTag).where(VersionTag.model_id == target.id, VersionTag.key == key)
        )
        if not rowcount(gone):
            raise NotFound(f"Version {target.version} of model '{target.name}' has no tag '{key}'")
        return target.id
