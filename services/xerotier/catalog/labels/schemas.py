"""Response schemas of aliases and tags."""

from __future__ import annotations

from pydantic import Field

from xerotier.api.schemas import Schema


class AliasOut(Schema):
    alias: str
    version: str
    versionId: str
    who: str | None = Field(description="the id of the key that set it last")
    updatedAt: str


class AliasList(Schema):
    aliases: list[AliasOut]


class AliasDeleted(Schema):
    deleted: AliasOut


class Tags(Schema):
    tags: dict[str, str]
