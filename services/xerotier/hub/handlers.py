"""Hub protocol use cases: a repository id and revision to a version, its files, one file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from xerotier.db.model_refs import find_ref
from xerotier.db.models import Model, ModelFile
from xerotier.db.reads import autocommit_connection
from xerotier.db.registry_models import ModelTag, RegisteredModel, VersionTag
from xerotier.domain.model_ref import commit_of
from xerotier.hub.protocol import (
    candidate_names,
    entry_not_found,
    repo_not_found,
    revision_not_found,
    revision_ref,
)
from xerotier.runtime import Runtime


@dataclass(frozen=True)
class Repo:
    repo_id: str
    name: str  # the model name in the project
    version: Any  # the version row the revision names
    commit: str


def _resolve(connection: Connection, project_id: str, slug: str, namespace: str, name: str, rev: str) -> Repo:
    repo_id = f"{namespace}/{name}"
    for candidate in candidate_names(namespace, name, slug, project_id):
        exists = connection.execute(
            select(Model.id).where(Model.project_id == project_id, Model.name == candidate).limit(1)
        ).first()
        if exists is None:
            continue
        version = find_ref(connection, project_id, revision_ref(candidate, rev))
        if version is None:
            raise revision_not_found(repo_id, rev)
        return Repo(repo_id, candidate, version, commit_of(version.id))
    raise repo_not_found(repo_id)


def _files(connection: Connection, version: Any) -> list[Any]:
    query = (
        select(ModelFile.path, ModelFile.sha256, ModelFile.size_bytes)
        .where(ModelFile.model_id == version.id)
        .order_by(ModelFile.path)
    )
    return list(connection.execute(query))


def _tags(connection: Connection, project_id: str, repo: Repo) -> list[str]:
    model_tags = connection.execute(
        select(ModelTag.key, ModelTag.value)
        .join(RegisteredModel, RegisteredModel.id == ModelTag.registered_model_id)
        .where(RegisteredModel.project_id == project_id, RegisteredModel.name == repo.name)
    )
    version_tags = connection.execute(
        select(VersionTag.key, VersionTag.value).where(VersionTag.model_id == repo.version.id)
    )
    found = {f"{k}:{v}" for k, v in [*model_tags, *version_tags]}
    if repo.version.architecture:
        found.add(repo.version.architecture)
    return sorted(found)


def repo_info(
    runtime: Runtime, project_id: str, slug: str, namespace: str, name: str, rev: str
) -> tuple[Repo, list[Any], list[str]]:
    """The version ``rev`` names, its files and its tags."""
    with autocommit_connection(runtime.engine) as connection:
        repo = _resolve(connection, project_id, slug, namespace, name, rev)
        return repo, _files(connection, repo.version), _tags(connection, project_id, repo)


def repo_entry(
    runtime: Runtime, project_id: str, slug: str, namespace: str, name: str, rev: str, path: str
) -> tuple[Repo, Any]:
    """The version ``rev`` names and its file ``path`` (``EntryNotFound`` when it has none)."""
    with autocommit_connection(runtime.engine) as connection:
        repo = _resolve(connection, project_id, slug, namespace, name, rev)
        row = connection.execute(
            select(ModelFile.path, ModelFile.sha256, ModelFile.size_bytes).where(
                ModelFile.model_id == repo.version.id, ModelFile.path == path
            )
        ).first()
    if row is None:
        raise entry_not_found(repo.repo_id, rev, path, repo.commit)
    return repo, row
