"""What the planner reads from the registry: a model's columns, tensor headers and config.json
(the pure derivation is ``shape_inputs``, shared with a folder on disk)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xerotier.db.models import Model, ModelFile
from xerotier.errors import InvalidInput
from xerotier.loading.model_shape import ModelShape
from xerotier.loading.shape_inputs import COLUMNS, MAX_CONFIG_BYTES, parse_config, shape_from
from xerotier.storage.blobs import BlobStore


def read_config(blobs: BlobStore, files: list[ModelFile]) -> dict[str, Any] | None:
    """The model's top-level config.json, read from the blob store (bounded)."""
    for row in files:
        if row.path == "config.json":
            if row.size_bytes > MAX_CONFIG_BYTES:
                raise InvalidInput(f"config.json: larger than {MAX_CONFIG_BYTES} bytes")
            with blobs.open(row.sha256) as stream:
                return parse_config(stream.read(MAX_CONFIG_BYTES + 1))
    return None


def shape_of(session: Session, blobs: BlobStore, model: Model) -> ModelShape:
    """The load-relevant shape of ``model`` (headers stored by validation, config from its blob)."""
    files = list(session.scalars(select(ModelFile).where(ModelFile.model_id == model.id)))
    headers = [f.header for f in files if f.header]
    values = {c: getattr(model, c) for c in COLUMNS}
    return shape_from(f"{model.name}@{model.version}", read_config(blobs, files), headers, values)
