"""Rows to the API's JSON: camelCase field names exactly as in the seeds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row

from xerotier.db.json_sql import row_object_text
from xerotier.db.models import LifecycleEventRow, Model, ModelFile
from xerotier.domain.storable import finite_or_none, sanitized


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def model_json(model: Model | Row[Any]) -> dict[str, Any]:
    """A version as the API shows it; ``model`` is an ORM row or a Core row of the models table."""
    extra = sanitized(model.extra_metadata or {})  # a value stored before the checks cannot 500
    return {
        "id": str(model.id),
        "projectId": model.project_id,
        "name": model.name,
        "version": model.version,
        "parentVersionId": str(model.parent_version_id) if model.parent_version_id else None,
        "isLatest": model.is_latest,
        "versionNotes": model.version_notes,
        "format": model.format,
        "sizeBytes": model.size_bytes,
        "status": model.status,
        "validationError": model.validation_error,
        "architecture": model.architecture,
        "parameterCount": model.parameter_count,
        "contextLength": model.context_length,
        "license": model.license,
        "isMultimodal": model.is_multimodal,
        "defaultTemperature": finite_or_none(model.default_temperature),
        "defaultTopP": finite_or_none(model.default_top_p),
        "chatTemplate": model.chat_template,
        "workloadType": model.workload_type,
        "isPreQuantized": model.is_pre_quantized,
        "preQuantizationMethod": model.pre_quantization_method,
        "preQuantizationBits": finite_or_none(model.pre_quantization_bits),
        "numExperts": model.num_experts,
        "numExpertsPerTok": model.num_experts_per_tok,
        "modelType": extra.get("modelType"),
        "extractorVersion": model.extractor_version,
        "architectures": extra.get("architectures"),
        "extraMetadata": extra,  # everything validation extracted beyond the seed's fields
        "source": sanitized(model.source),  # where the files came from (hub repo + pinned commit, bucket …)
        "isShared": model.is_shared,
        "catalogRole": model.catalog_role,
        "createdAt": _time(model.created_at),
        "updatedAt": _time(model.updated_at),
        "statusChangedAt": _time(model.status_changed_at),
    }


_M = Model.__table__.c
_FLOATS = ("defaultTemperature", "defaultTopP", "preQuantizationBits")
_TIMES = ("createdAt", "updatedAt", "statusChangedAt")


def model_json_column() -> ColumnElement[Any]:
    """``model_json`` of a models row, rendered by PostgreSQL as JSON text: same fields, same order,
    same text for each value (see ``xerotier.db.json_sql``)."""
    return row_object_text(MODEL_FIELDS, metadata=_M.extra_metadata, times=_TIMES, floats=_FLOATS).label(
        "model"
    )


#: ``model_json``'s fields in order → column of the models table (None: from the metadata object).
MODEL_FIELDS: dict[str, Any] = {
    "id": _M.id,
    "projectId": _M.project_id,
    "name": _M.name,
    "version": _M.version,
    "parentVersionId": _M.parent_version_id,
    "isLatest": _M.is_latest,
    "versionNotes": _M.version_notes,
    "format": _M.format,
    "sizeBytes": _M.size_bytes,
    "status": _M.status,
    "validationError": _M.validation_error,
    "architecture": _M.architecture,
    "parameterCount": _M.parameter_count,
    "contextLength": _M.context_length,
    "license": _M.license,
    "isMultimodal": _M.is_multimodal,
    "defaultTemperature": _M.default_temperature,
    "defaultTopP": _M.default_top_p,
    "chatTemplate": _M.chat_template,
    "workloadType": _M.workload_type,
    "isPreQuantized": _M.is_pre_quantized,
    "preQuantizationMethod": _M.pre_quantization_method,
    "preQuantizationBits": _M.pre_quantization_bits,
    "numExperts": _M.num_experts,
    "numExpertsPerTok": _M.num_experts_per_tok,
    "modelType": None,
    "extractorVersion": _M.extractor_version,
    "architectures": None,
    "extraMetadata": None,
    "source": _M.source,
    "isShared": _M.is_shared,
    "catalogRole": _M.catalog_role,
    "createdAt": _M.created_at,
    "updatedAt": _M.updated_at,
    "statusChangedAt": _M.status_changed_at,
}


def file_json(row: ModelFile) -> dict[str, Any]:
    return {
        "path": row.path,
        "sizeBytes": row.size_bytes,
        "sha256": row.sha256,
        "createdAt": _time(row.created_at),
    }


def event_json(row: LifecycleEventRow) -> dict[str, Any]:
    return {
        "event": row.event,
        "from": row.from_status,
        "to": row.to_status,
        "reason": row.reason,
        "createdAt": _time(row.created_at),
    }
