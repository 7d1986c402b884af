"""JSON of the sharing area: the owner's view of a shared model, and endpoints (camelCase)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from xerotier.api.serialize import model_json
from xerotier.catalog.endpoints.handlers import ResolvedEndpoint
from xerotier.db.models import Model


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def sharing_fields(model: Model) -> dict[str, Any]:
    return {
        "isShared": model.is_shared,
        "catalogRole": model.catalog_role,
        "featured": model.featured,
        "deploymentCount": model.deployment_count,
        "sharedAt": _time(model.shared_at),
    }


def owned_model_json(model: Model) -> dict[str, Any]:
    """The owner's view after share / unshare: the model plus its catalog footprint."""
    return {**model_json(model), **sharing_fields(model)}


def endpoint_json(item: ResolvedEndpoint) -> dict[str, Any]:
    e, model = item.endpoint, item.model
    return {
        "id": str(e.id),
        "projectId": e.project_id,
        "modelProjectId": e.model_project_id,
        "modelName": e.model_name,
        "modelId": str(model.id) if model is not None else None,
        "version": model.version if model is not None else None,
        "tier": e.tier,
        "status": e.status,
        "statusReason": e.status_reason,
        # what answers requests now (null until a load is acknowledged) and what it rolls to
        "servingModelId": str(item.serving.id) if item.serving is not None else None,
        "servingVersion": item.serving.version if item.serving is not None else None,
        "rollingToModelId": str(item.rolling_to.id) if item.rolling_to is not None else None,
        "rollingToVersion": item.rolling_to.version if item.rolling_to is not None else None,
        "lastRequestAt": _time(e.last_request_at),
        "createdAt": _time(e.created_at),
        "deletedAt": _time(e.deleted_at),
    }
