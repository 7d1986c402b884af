"""The files of a version, found by any model reference (``xerotier.db.model_refs``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select

from xerotier.db.model_refs import resolve_row
from xerotier.db.models import ModelFile
from xerotier.db.reads import autocommit_connection
from xerotier.domain.model_ref import ModelRef
from xerotier.errors import NotFound
from xerotier.runtime import Runtime

_FILES = ModelFile.__table__
_FILE = select(_FILES.c.path, _FILES.c.sha256, _FILES.c.size_bytes).where(
    _FILES.c.model_id == bindparam("model_id"), _FILES.c.path == bindparam("path")
)
_ALL_FILES = (
    select(_FILES.c.path, _FILES.c.sha256, _FILES.c.size_bytes)
    .where(_FILES.c.model_id == bindparam("model_id"))
    .order_by(_FILES.c.path)
)


@dataclass(frozen=True)
class FileHit:
    version_id: uuid.UUID
    name: str
    version: str
    path: str
    sha256: str
    size: int


def find_file(runtime: Runtime, project_id: str, ref: ModelRef, path: str) -> FileHit:
    """The file ``path`` of the version ``ref`` names; ``NotFound`` naming what is missing."""
    with autocommit_connection(runtime.engine) as connection:
        version = resolve_row(connection, project_id, ref)
        row = connection.execute(_FILE, {"model_id": version.id, "path": path}).first()
    if row is None:
        raise NotFound(f"File '{path}' not found in model '{version.name}' version {version.version}")
    return FileHit(version.id, version.name, version.version, row.path, row.sha256, row.size_bytes)


def version_files(runtime: Runtime, project_id: str, ref: ModelRef) -> tuple[Any, list[Any]]:
    """The version row ``ref`` names and its files (path, sha256, size_bytes), by path."""
    with autocommit_connection(runtime.engine) as connection:
        version = resolve_row(connection, project_id, ref)
        return version, list(connection.execute(_ALL_FILES, {"model_id": version.id}))
