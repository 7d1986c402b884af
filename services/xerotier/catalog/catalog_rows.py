"""Catalog entries read as plain rows (no ORM objects) and turned into the API's camelCase JSON.

An entry is the manifest only: metadata, status, sharing footprint — never file locations, the
owner's validation details or where the files came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import JSON, ColumnElement, Select, Text, case, cast, func, literal_column, select

from xerotier.db.models import Model

#: JSON field → column, in response order.
FIELDS: dict[str, Any] = {
    "id": Model.id,
    "projectId": Model.project_id,
    "name": Model.name,
    "version": Model.version,
    "parentVersionId": Model.parent_version_id,
    "isLatest": Model.is_latest,
    "versionNotes": Model.version_notes,
    "format": Model.format,
    "sizeBytes": Model.size_bytes,
    "status": Model.status,
    "architecture": Model.architecture,
    "parameterCount": Model.parameter_count,
    "contextLength": Model.context_length,
    "license": Model.license,
    "isMultimodal": Model.is_multimodal,
    "defaultTemperature": Model.default_temperature,
    "defaultTopP": Model.default_top_p,
    "chatTemplate": Model.chat_template,
    "workloadType": Model.workload_type,
    "isPreQuantized": Model.is_pre_quantized,
    "preQuantizationMethod": Model.pre_quantization_method,
    "preQuantizationBits": Model.pre_quantization_bits,
    "numExperts": Model.num_experts,
    "numExpertsPerTok": Model.num_experts_per_tok,
    "extraMetadata": Model.extra_metadata,
    "createdAt": Model.created_at,
    "updatedAt": Model.updated_at,
    "statusChangedAt": Model.status_changed_at,
    "isShared": Model.is_shared,
    "catalogRole": Model.catalog_role,
    "featured": Model.featured,
    "deploymentCount": Model.deployment_count,
    "sharedAt": Model.shared_at,
}


def catalog_select() -> Select:
    return select(*(column.label(key) for key, column in FIELDS.items()))


def entry_json_column() -> ColumnElement[Any]:
    """The entry of ``entry_json``, rendered by PostgreSQL as JSON text (the fields in the same
    order, ``modelType`` and ``architectures`` lifted out of the metadata)."""

    def key(name: str) -> ColumnElement[Any]:  # our own constant names: plain SQL literals
        return literal_column(f"'{name}'")

    # SQL NULL and JSON null both read as {} (``entry_json``'s ``or {}``)
    extra = case(
        (func.json_typeof(Model.extra_metadata) == key("object"), Model.extra_metadata),
        else_=cast(key("{}"), JSON),
    )
    pairs: list[Any] = []
    for name, column in FIELDS.items():
        if name != "extraMetadata":
            pairs += [key(name), _isoformat_utc(column) if name in _TIMES else column]
    for name in ("modelType", "architectures"):
        pairs += [key(name), extra.op("->")(key(name))]
    pairs += [key("extraMetadata"), extra]
    return cast(func.json_build_object(*pairs), Text).label("entry")


def _isoformat_utc(column: Any) -> ColumnElement[Any]:
    """``datetime.isoformat()`` of a UTC time, in SQL: six fraction digits, or none when zero
    (one ``to_char``, about 1 µs a value; NULL stays NULL, a JSON null)."""
    utc = column.op("AT TIME ZONE")(literal_column("'UTC'"))
    text = func.to_char(utc, literal_column('\'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"\''))
    return func.replace(text, literal_column("'.000000+'"), literal_column("'+'"))


#: The fields whose values are not JSON-native: UUIDs and times (every other column already is).
_UUIDS = ("id", "parentVersionId")
_TIMES = ("createdAt", "updatedAt", "statusChangedAt", "sharedAt")


def entry_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """A catalog entry: JSON-native values only (the route writes the body directly)."""
    entry = dict(row)
    for key in _UUIDS:
        if entry[key] is not None:
            entry[key] = str(entry[key])
    for key in _TIMES:
        if entry[key] is not None:
            entry[key] = entry[key].isoformat()
    extra = entry.pop("extraMetadata") or {}
    entry["modelType"] = extra.get("modelType")
    entry["architectures"] = extra.get("architectures")
    entry["extraMetadata"] = extra  # the manifest: metadata only, never storage locations
    return entry
