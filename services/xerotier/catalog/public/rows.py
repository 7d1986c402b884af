"""Catalog entries read as plain rows (no ORM objects) and turned into the API's camelCase JSON.

An entry is the manifest only: metadata, status, sharing footprint — never file locations, the
owner's validation details or where the files came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, select

from xerotier.db.models import Model
from xerotier.domain.storable import finite_or_none, sanitized

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


#: The fields whose values are not JSON-native: UUIDs and times (every other column already is).
_UUIDS = ("id", "parentVersionId")
_TIMES = ("createdAt", "updatedAt", "statusChangedAt", "sharedAt")
_FLOATS = ("defaultTemperature", "defaultTopP", "preQuantizationBits")


def entry_json(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A catalog entry: JSON-native values only (the route writes the body directly)."""
    entry = dict(row)
    for field in _UUIDS:
        if entry[field] is not None:
            entry[field] = str(entry[field])
    for field in _TIMES:
        if entry[field] is not None:
            entry[field] = entry[field].isoformat()
    for field in _FLOATS:  # a non-finite value stored before the checks reads as null, never a 500
        entry[field] = finite_or_none(entry[field])
    extra = sanitized(entry.pop("extraMetadata") or {})
    entry["modelType"] = extra.get("modelType")
    entry["architectures"] = extra.get("architectures")
    entry["extraMetadata"] = extra  # the manifest: metadata only, never storage locations
    return entry
