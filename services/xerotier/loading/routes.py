"""HTTP routes of the loading service: dry-run load plans, backends, endpoint resolution."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from xerotier.api.deps import Caller, get_caller, get_rt
from xerotier.api.model_refs import model_id_of
from xerotier.api.schemas import error_responses
from xerotier.errors import InvalidInput
from xerotier.loading import queries
from xerotier.loading.schemas import BackendList, BackendOut, LoadPlanOut, Resolution
from xerotier.loading.targets import target_inventory

router = APIRouter(tags=["loading"])


class LoadPlanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    backendId: str | None = None
    gpu: str | None = Field(None, description="A GPU profile: T4, L4, A10G, A100-40GB, …, B200")
    gpuCount: int = 1
    gpuMemory: str | None = Field(None, description="e.g. 24GiB (with computeCapability)")
    computeCapability: float | None = None
    gpuMemoryUtilization: float | None = Field(None, gt=0.05, le=1.0)
    maxModelLen: int | None = Field(None, ge=1)
    minContext: int | None = Field(None, ge=1)
    kvCacheDtype: str | None = Field(None, pattern="^(auto|fp8)$")
    enableMoeConfig: bool | None = None


class ResolveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    promptTokens: int = Field(0, ge=0)
    maxTokens: int | None = Field(None, ge=1)


@router.post(
    "/models/{model_id}/load-plan",
    response_model=LoadPlanOut,
    responses=error_responses(400, 401, 404, 409),
)
def load_plan(
    model_id: str, request: Request, body: LoadPlanRequest | None = None, caller: Caller = Depends(get_caller)
) -> dict[str, Any]:
    body = body or LoadPlanRequest()
    overrides = {
        "gpu_memory_utilization": body.gpuMemoryUtilization,
        "max_model_len": body.maxModelLen,
        "min_context": body.minContext,
        "kv_cache_dtype": body.kvCacheDtype,
        "enable_moe_config": body.enableMoeConfig,
    }
    if body.backendId is not None:
        if body.gpu or body.gpuMemory:
            raise InvalidInput("Give either backendId or a GPU (gpu / gpuMemory), not both")
        inventory = None
    else:
        inventory = target_inventory(
            gpu=body.gpu,
            gpu_count=body.gpuCount,
            gpu_memory=body.gpuMemory,
            compute_capability=body.computeCapability,
        )
    return queries.plan_for_model(
        get_rt(request),
        caller.project_id,
        model_id_of(get_rt(request), caller.project_id, model_id),
        backend_id=body.backendId,
        inventory=inventory,
        overrides=overrides,
    )


@router.get(
    "/backends",
    response_model=BackendList,
    responses=error_responses(401),
)
def list_backends(request: Request, caller: Caller = Depends(get_caller)) -> dict[str, Any]:
    return {"backends": queries.list_backends(get_rt(request), caller.project_id)}


@router.get(
    "/backends/{backend_id}",
    response_model=BackendOut,
    responses=error_responses(401, 404),
)
def get_backend(backend_id: str, request: Request, caller: Caller = Depends(get_caller)) -> dict[str, Any]:
    return queries.list_backends(get_rt(request), caller.project_id, backend_id)[0]


@router.post(
    "/endpoints/{endpoint_id}/resolve",
    response_model=Resolution,
    responses=error_responses(400, 401, 404, 409),
)
def resolve(
    endpoint_id: str,
    request: Request,
    body: ResolveRequest | None = None,
    caller: Caller = Depends(get_caller),
) -> dict[str, Any]:
    body = body or ResolveRequest()
    try:
        parsed = uuid.UUID(endpoint_id)
    except ValueError:
        raise InvalidInput("Invalid endpoint ID") from None
    return queries.resolve_endpoint(
        get_rt(request), caller.project_id, parsed, body.promptTokens, body.maxTokens
    )
