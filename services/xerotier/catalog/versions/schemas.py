"""Response schemas of the catalog: versions: promotions, history, diffs."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from xerotier.api.schemas import ModelOut, Schema


class PromotionOut(ModelOut):
    promotion: str = Field(description="done (200) or pending (202: promoted once it is ready)")


class HistoryEntry(Schema):
    id: int
    kind: str = Field(description="promote | rollback | first-ready | alias-set | alias-delete")
    from_: str | None = Field(alias="from")
    to: str | None = Field(description="None when an alias was deleted")
    fromVersionId: str | None
    toVersionId: str | None
    who: str | None = Field(description="the id of the key that asked")
    when: str
    alias: str | None = Field(None, description="the alias moved (alias-set | alias-delete)")


class PendingPromotionOut(Schema):
    """A promotion waiting for its version to become ready."""

    kind: str
    to: str
    toVersionId: str
    toStatus: str
    who: str | None
    requestedAt: str


class History(Schema):
    history: list[HistoryEntry]
    pending: PendingPromotionOut | None = None


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
