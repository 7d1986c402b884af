"""Rows to the API's JSON through the response schemas (``xerotier.api.schemas``): camelCase field
names exactly as in the seeds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row

from xerotier.api.schemas import EventOut, FileOut, ModelOut
from xerotier.db.models import LifecycleEventRow, Model, ModelFile
from xerotier.domain.storable import finite_or_none, sanitized


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def model_json(model: Model | Row[Any]) -> dict[str, Any]:
    """A version as the API shows it (``ModelOut``, dumped); ``model`` is an ORM or a Core row."""
    return model_out(model).model_dump(by_alias=True)


def model_out(model: Model | Row[Any]) -> ModelOut:
    """A version as the API shows it; ``model`` is an ORM row or a Core row of the models table."""
    extra = sanitized(model.extra_metadata or {})  # a value stored before the checks cannot 500
    return ModelOut(
        **{
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
            "source": sanitized(model.source),  # where the files came from (hub repo + commit, bucket …)
            "isShared": model.is_shared,
            "catalogRole": model.catalog_role,
            "createdAt": _time(model.created_at),
            "updatedAt": _time(model.updated_at),
            "statusChangedAt": _time(model.status_changed_at),
        }
    )


def file_json(row: ModelFile) -> dict[str, Any]:
    return FileOut(
        path=row.path, sizeBytes=row.size_bytes, sha256=row.sha256, createdAt=_time(row.created_at)
    ).model_dump(by_alias=True)


def event_json(row: LifecycleEventRow) -> dict[str, Any]:
    return EventOut(
        event=row.event,
        from_=row.from_status,
        to=row.to_status,
        reason=row.reason,
        createdAt=_time(row.created_at),
    ).model_dump(by_alias=True)
