"""HTTP routes: endpoints (create on an own or catalog model, list, get, delete)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from xerotier.api.deps import Caller, get_caller, get_rt
from xerotier.api.model_refs import model_id_of
from xerotier.api.schemas import error_responses
from xerotier.catalog.endpoints import handlers as endpoint_handlers
from xerotier.catalog.endpoints.handlers import parse_endpoint_id
from xerotier.catalog.endpoints.schemas import EndpointList, EndpointOut
from xerotier.catalog.sharing.serialize import endpoint_json

router = APIRouter(tags=["endpoints"])


class CreateEndpointBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    model_id: str = Field(alias="modelId", max_length=64)
    tier: str = Field(max_length=64)


@router.post(
    "/endpoints",
    status_code=201,
    response_model=EndpointOut,
    responses=error_responses(400, 401, 403, 404, 409),
)
async def create_endpoint(
    body: CreateEndpointBody, request: Request, caller: Caller = Depends(get_caller)
) -> dict[str, Any]:
    runtime = get_rt(request)
    mid = await run_in_threadpool(model_id_of, runtime, caller.project_id, body.model_id, encoded=False)
    item = await run_in_threadpool(
        endpoint_handlers.create_endpoint, runtime, caller.project_id, mid, body.tier
    )
    return endpoint_json(item)


@router.get(
    "/endpoints",
    response_model=EndpointList,
    responses=error_responses(401),
)
def list_endpoints(request: Request, caller: Caller = Depends(get_caller)) -> dict[str, Any]:
    items = endpoint_handlers.list_endpoints(get_rt(request), caller.project_id)
    return {"endpoints": [endpoint_json(i) for i in items]}


@router.get(
    "/endpoints/{endpoint_id}",
    response_model=EndpointOut,
    responses=error_responses(400, 401, 404),
)
def get_endpoint(endpoint_id: str, request: Request, caller: Caller = Depends(get_caller)) -> dict[str, Any]:
    item = endpoint_handlers.get_endpoint(get_rt(request), caller.project_id, parse_endpoint_id(endpoint_id))
    return endpoint_json(item)


@router.delete(
    "/endpoints/{endpoint_id}",
    response_model=EndpointOut,
    responses=error_responses(400, 401, 404, 409),
)
async def delete_endpoint(
    endpoint_id: str, request: Request, caller: Caller = Depends(get_caller)
) -> dict[str, Any]:
    eid = parse_endpoint_id(endpoint_id)
    endpoint = await run_in_threadpool(
        endpoint_handlers.delete_endpoint, get_rt(request), caller.project_id, eid
    )
    return endpoint_json(endpoint_handlers.ResolvedEndpoint(endpoint, None))
