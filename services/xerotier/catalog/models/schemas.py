"""Response schemas of the `/models` resource: deletions and the model card."""

from __future__ import annotations

from pydantic import Field

from xerotier.api.schemas import ModelOut, Schema


class VersionBrief(Schema):
    id: str
    name: str
    version: str
    status: str


class DeleteResult(Schema):
    deleted: list[VersionBrief]
    latest: ModelOut | None


class ModelCard(Schema):
    """The model card of one version (``README.md``) and its chat template."""

    markdown: str | None = Field(description="null when the version has no README.md")
    truncated: bool
    chatTemplate: str | None
