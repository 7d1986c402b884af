"""HTTP routes of the caller's project API keys: list, mint (the full key shown once), revoke."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from xerotier.api.deps import Caller, get_caller, get_rt
from xerotier.api.schemas import error_responses
from xerotier.db import api_keys
from xerotier.db.models import Project
from xerotier.db.projects import create_key
from xerotier.errors import InvalidInput, NotFound
from xerotier.gateway.schemas import KeyList, KeyOut, MintedKey, WhoAmI

router = APIRouter(tags=["keys"])


class MintKeyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=200)


def key_json(info: api_keys.KeyInfo) -> dict[str, Any]:
    """What may be shown about a key: never the secret nor its hash."""
    return {
        "id": info.id,
        "name": info.name,
        "prefix": info.prefix,
        "createdAt": info.created_at.isoformat(),
        "lastUsedAt": info.last_used_at.isoformat() if info.last_used_at else None,
        "revokedAt": info.revoked_at.isoformat() if info.revoked_at else None,
    }


def parse_key_id(key_id: str) -> str:
    try:
        return str(uuid.UUID(key_id))
    except ValueError:
        raise InvalidInput("Invalid key ID") from None


@router.get(
    "/keys",
    response_model=KeyList,
    responses=error_responses(401),
)
def list_keys(request: Request, caller: Caller = Depends(get_caller)) -> dict[str, Any]:
    with get_rt(request).session_factory() as session:
        keys = api_keys.list_keys(session, caller.project_slug)
    return {"keys": [key_json(k) for k in keys]}


@router.post(
    "/keys",
    status_code=201,
    response_model=MintedKey,
    responses=error_responses(400, 401),
)
def mint_key(
    request: Request, body: MintKeyBody | None = None, caller: Caller = Depends(get_caller)
) -> dict[str, Any]:
    """A new key of the caller's project; ``key`` is the full key, returned this once only."""
    name = (body.name.strip() or None) if body and body.name else None
    with get_rt(request).unit_of_work() as session:
        project = session.scalar(select(Project).where(Project.id == caller.project_id))
        if project is None:
            raise NotFound("Project not found")
        row, full = create_key(session, project, name)
        info = next(k for k in api_keys.list_keys(session, project.slug) if k.id == str(row.id))
    return {**key_json(info), "key": full}


@router.delete(
    "/keys/{key_id}",
    response_model=KeyOut,
    responses=error_responses(400, 401, 404),
)
def revoke_key(key_id: str, request: Request, caller: Caller = Depends(get_caller)) -> dict[str, Any]:
    """Revoke one of the caller's project's keys; another project's key is not found."""
    with get_rt(request).unit_of_work() as session:
        info = api_keys.revoke_key(session, caller.project_slug, parse_key_id(key_id))
    return key_json(info)


@router.get(
    "/whoami",
    response_model=WhoAmI,
    responses=error_responses(401),
)
def whoami(request: Request, caller: Caller = Depends(get_caller)) -> dict[str, Any]:
    """Who the presented key is: its project and the key itself (never the secret)."""
    with get_rt(request).session_factory() as session:
        keys = api_keys.list_keys(session, caller.project_slug)
    key = next((k for k in keys if k.id == str(caller.key_id)), None)
    return {
        "projectId": caller.project_id,
        "projectSlug": caller.project_slug,
        "keyId": str(caller.key_id),
        "keyName": key.name if key else None,
        "keyPrefix": key.prefix if key else None,
    }
