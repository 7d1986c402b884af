"""The one derivation of a model's load shape from validation's column values, config.json and
tensor headers (pure): a stored model (``inputs``) and a folder on disk (``xeroctl``) both use it."""

from __future__ import annotations

import json
from typing import Any

from xerotier.errors import InvalidInput
from xerotier.loading.model_shape import ModelShape, model_shape

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


def shape_from(
    name: str, config: dict[str, Any] | None, headers: list[dict[str, Any]], values: dict[str, Any]
) -> ModelShape:
    """The one derivation of a shape: validation's column values (``models`` row or a local
    inspection), config.json and the headers validation stored (files an engine loads)."""
    return model_shape(name, config, headers, {c: values.get(c) for c in COLUMNS})
