"""Response schemas of the gateway's own routes: API keys and health."""

from __future__ import annotations

from pydantic import Field

from xerotier.api.schemas import Schema


class KeyOut(Schema):
    """What may be shown about a key: never the secret nor its hash."""

    id: str
    name: str | None
    prefix: str
    createdAt: str
    lastUsedAt: str | None
    revokedAt: str | None


class MintedKey(KeyOut):
    key: str = Field(description="the full key, returned this once only")


class KeyList(Schema):
    keys: list[KeyOut]


class WhoAmI(Schema):
    projectId: str
    projectSlug: str
    keyId: str
    keyName: str | None
    keyPrefix: str | None
