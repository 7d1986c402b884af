"""Response schemas of the catalog: the public catalog and the service tiers."""

from __future__ import annotations

from typing import Any

from xerotier.api.schemas import Schema


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
