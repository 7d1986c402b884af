"""Response schemas of the catalog: the model list's deletions."""

from __future__ import annotations

from xerotier.api.schemas import ModelOut, Schema


class VersionBrief(Schema):
    id: str
    name: str
    version: str
    status: str


class DeleteResult(Schema):
    deleted: list[VersionBrief]
    latest: ModelOut | None
