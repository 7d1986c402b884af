"""Response schemas of the catalog: endpoints."""

from __future__ import annotations

from xerotier.api.schemas import Schema


class EndpointOut(Schema):
    id: str
    projectId: str
    modelProjectId: str
    modelName: str
    modelId: str | None
    version: str | None
    tier: str
    status: str
    statusReason: str | None
    createdAt: str | None
    deletedAt: str | None


class EndpointList(Schema):
    endpoints: list[EndpointOut]
