"""Response schemas of the catalog service: versions, history, diffs, sharing, the public catalog,
tiers and endpoints (see ``xerotier.api.schemas`` for the model itself)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from xerotier.api.schemas import ModelOut, Schema


class PromotionOut(ModelOut):
    promotion: str = Field(description="done (200) or pending (202: promoted once it is ready)")


class VersionBrief(Schema):
    id: str
    name: str
    version: str
    status: str


class DeleteResult(Schema):
    deleted: list[VersionBrief]
    latest: ModelOut | None


class HistoryEntry(Schema):
    id: int
    kind: str = Field(description="promote | rollback")
    from_: str | None = Field(alias="from")
    to: str
    fromVersionId: str | None
    toVersionId: str | None
    who: str | None = Field(description="the id of the key that asked")
    when: str


class History(Schema):
    history: list[HistoryEntry]


class VersionDiff(Schema):
    from_: str | None = Field(alias="from")
    to: str | None
    metadata: dict[str, Any]
    chatTemplate: dict[str, Any]
    generationDefaults: dict[str, Any]
    files: dict[str, Any]
    tensors: dict[str, Any]
    fromVersionId: str
    toVersionId: str


class SharedModelOut(ModelOut):
    """The owner's view after share / unshare: the model and its catalog footprint."""

    featured: bool
    deploymentCount: int
    sharedAt: str | None


class CatalogEntry(Schema):
    """A shared model as every project sees it: the manifest, never file locations."""

    id: str
    projectId: str
    name: str
    version: str
    status: str
    isShared: bool
    catalogRole: str | None
    featured: bool
    deploymentCount: int
    sharedAt: str | None
    modelType: str | None
    architectures: list[str] | None
    extraMetadata: dict[str, Any]


class CatalogPage(Schema):
    models: list[CatalogEntry]
    nextCursor: str | None


class Tier(Schema):
    slug: str
    name: str
    description: str
    isShared: bool
    allowedRoles: list[str]


class TierList(Schema):
    tiers: list[Tier]


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
