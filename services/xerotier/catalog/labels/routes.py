"""HTTP routes of aliases and tags (``{model_id}``: any model reference, see ``xerotier.api.model_refs``).

GET            /models/{model}/aliases
PUT | DELETE   /models/{model}/aliases/{alias}              PUT body {"version": "2.0.0"}
GET            /models/{model}/tags
PUT | DELETE   /models/{model}/tags/{key}                   PUT body {"value": "..."}
GET            /models/{model}/versions/{version}/tags
PUT | DELETE   /models/{model}/versions/{version}/tags/{key}
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from xerotier.api.deps import Caller, get_caller, get_rt
from xerotier.api.model_refs import model_id_of
from xerotier.api.schemas import error_responses
from xerotier.catalog.labels import handlers as labels
from xerotier.catalog.labels.schemas import AliasDeleted, AliasList, AliasOut, Tags

router = APIRouter(tags=["aliases and tags"])


class AliasBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str = Field(max_length=128)


class TagBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: str = Field(max_length=5000)


@router.get(
    "/models/{model_id}/aliases",
    response_model=AliasList,
    responses=error_responses(400, 401, 404),
)
def list_aliases(model_id: str, request: Request, caller: Caller = Depends(get_caller)) -> dict[str, Any]:
    runtime = get_rt(request)
    mid = model_id_of(runtime, caller.project_id, model_id)
    return {"aliases": labels.list_aliases(runtime, caller.project_id, mid)}


@router.put(
    "/models/{model_id}/aliases/{alias}",
    response_model=AliasOut,
    responses=error_responses(400, 401, 404, 409),
)
def set_alias(
    model_id: str, alias: str, body: AliasBody, request: Request, caller: Caller = Depends(get_caller)
) -> dict[str, Any]:
    """Point the alias at a version (created, or moved: recorded in the version history)."""
    runtime = get_rt(request)
    mid = model_id_of(runtime, caller.project_id, model_id)
    return labels.set_alias(runtime, caller.project_id, mid, alias, body.version, caller.key_id)


@router.delete(
    "/models/{model_id}/aliases/{alias}",
    response_model=AliasDeleted,
    responses=error_responses(400, 401, 404),
)
def delete_alias(
    model_id: str, alias: str, request: Request, caller: Caller = Depends(get_caller)
) -> dict[str, Any]:
    runtime = get_rt(request)
    mid = model_id_of(runtime, caller.project_id, model_id)
    return {"deleted": labels.delete_alias(runtime, caller.project_id, mid, alias, caller.key_id)}


@router.get(
    "/models/{model_id}/tags",
    response_model=Tags,
    responses=error_responses(400, 401, 404),
)
def model_tags(model_id: str, request: Request, caller: Caller = Depends(get_caller)) -> dict[str, Any]:
    runtime = get_rt(request)
    mid = model_id_of(runtime, caller.project_id, model_id)
    return {"tags": labels.model_tags(runtime, caller.project_id, mid)}


@router.put(
    "/models/{model_id}/tags/{key:path}",
    response_model=Tags,
    responses=error_responses(400, 401, 404),
)
def set_model_tag(
    model_id: str, key: str, body: TagBody, request: Request, caller: Caller = Depends(get_caller)
) -> dict[str, Any]:
    runtime = get_rt(request)
    mid = model_id_of(runtime, caller.project_id, model_id)
    labels.set_model_tag(runtime, caller.project_id, mid, key, body.value)
    return {"tags": labels.model_tags(runtime, caller.project_id, mid)}


@router.delete(
    "/models/{model_id}/tags/{key:path}",
    response_model=Tags,
    responses=error_responses(400, 401, 404),
)
def delete_model_tag(
    model_id: str, key: str, request: Request, caller: Caller = Depends(get_caller)
) -> dict[str, Any]:
    runtime = get_rt(request)
    mid = model_id_of(runtime, caller.project_id, model_id)
    labels.delete_model_tag(runtime, caller.project_id, mid, key)
    return {"tags": labels.model_tags(runtime, caller.project_id, mid)}


@router.get(
    "/models/{model_id}/versions/{version}/tags",
    response_model=Tags,
    responses=error_responses(400, 401, 404),
)
def version_tags(
    model_id: str, version: str, request: Request, caller: Caller = Depends(get_caller)
) -> dict[str, Any]:
    runtime = get_rt(request)
    mid = model_id_of(runtime, caller.project_id, model_id)
    return {"tags": labels.version_tags(runtime, caller.project_id, mid, version)}


@router.put(
    "/models/{model_id}/versions/{version}/tags/{key:path}",
    response_model=Tags,
    responses=error_responses(400, 401, 404),
)
def set_version_tag(
    model_id: str,
    version: str,
    key: str,
    body: TagBody,
    request: Request,
    caller: Caller = Depends(get_caller),
) -> dict[str, Any]:
    runtime = get_rt(request)
    mid = model_id_of(runtime, caller.project_id, model_id)
    target = labels.set_version_tag(runtime, caller.project_id, mid, version, key, body.value)
    return {"tags": labels.version_tags(runtime, caller.project_id, target, None)}


@router.delete(
    "/models/{model_id}/versions/{version}/tags/{key:path}",
    response_model=Tags,
    responses=error_responses(400, 401, 404),
)
def delete_version_tag(
    model_id: str, version: str, key: str, request: Request, caller: Caller = Depends(get_caller)
) -> dict[str, Any]:
    runtime = get_rt(request)
    mid = model_id_of(runtime, caller.project_id, model_id)
    target = labels.delete_version_tag(runtime, caller.project_id, mid, version, key)
    return {"tags": labels.version_tags(runtime, caller.project_id, target, None)}
