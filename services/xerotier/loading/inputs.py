"""What the planner reads from the registry: a model's columns, tensor headers and config.json."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xerotier.db.models import Model, ModelFile
from xerotier.errors import InvalidInput
from xerotier.loading.model_shape import ModelShape, model_shape
from xerotier.storage.blobs import BlobStore

MAX_CONFIG_BYTES = 4 * 1024 * 1024
COLUMNS = (
    "context_length",
    "is_pre_quantized",
    "pre_quantization_method",
    "pre_quantization_bits",
    "num_experts",
    "num_experts_per_tok",
)


def parse_config(raw: bytes, path: str = "config.json") -> dict[str, Any]:
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise InvalidInput(f"{path}: not a JSON object")
    return doc


def read_config(blobs: BlobStore, files: list[ModelFile]) -> dict[str, Any] | None:
    """The model's top-level config.json, read from the blob store (bounded)."""
    for row in files:
        if row.path == "config.json":
            if row.size_bytes > MAX_CONFIG_BYTES:
                raise InvalidInput(f"config.json: larger than {MAX_CONFIG_BYTES} bytes")
            with blobs.open(row.sha256) as stream:
                return parse_config(stream.read(MAX_CONFIG_BYTES + 1))
    return None


def shape_from(
    name: str, config: dict[str, Any] | None, headers: list[dict[str, Any]], values: dict[str, Any]
) -> ModelShape:
    """The one derivation of a shape: validation's column values (``models`` row or a local
    inspection), config.json and the headers validation stored (files an engine loads)."""
    return model_shape(name, config, headers, {c: values.get(c) for c in COLUMNS})


def shape_of(session: Session, blobs: BlobStore, model: Model) -> ModelShape:
    """The load-relevant shape of ``model`` (headers stored by validation, config from its blob)."""
    files = list(session.scalars(select(ModelFile).where(ModelFile.model_id == model.id)))
    headers = [f.header for f in files if f.header]
    values = {c: getattr(model, c) for c in COLUMNS}
    return shape_from(f"{model.name}@{model.version}", read_config(blobs, files), headers, values)
