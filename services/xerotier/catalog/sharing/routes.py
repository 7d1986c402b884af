"""HTTP routes: share / unshare a model (the seed's "Model Sharing")."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool

from xerotier.api.deps import Caller, get_caller, get_rt
from xerotier.api.model_refs import resolve_model_id
from xerotier.api.schemas import error_responses
from xerotier.catalog.sharing import handlers as sharing_handlers
from xerotier.catalog.sharing.schemas import SharedModelOut
from xerotier.catalog.sharing.serialize import owned_model_json

router = APIRouter(tags=["sharing"])


@router.post(
    "/models/{model_id}/share",
    response_model=SharedModelOut,
    responses=error_responses(400, 401, 404, 409),
)
async def share(model_id: str, request: Request, caller: Caller = Depends(get_caller)) -> dict[str, Any]:
    """Publish the model's manifest in the public catalog (role ``deployable``)."""
    mid = await resolve_model_id(request, caller, model_id)
    model = await run_in_threadpool(sharing_handlers.share_model, get_rt(request), caller.project_id, mid)
    return owned_model_json(model)


@router.post(
    "/models/{model_id}/unshare",
    response_model=SharedModelOut,
    responses=error_responses(400, 401, 404, 409),
)
async def unshare(model_id: str, request: Request, caller: Caller = Depends(get_caller)) -> dict[str, Any]:
    """Remove the model from the catalog; endpoints already provisioned keep serving."""
    mid = await resolve_model_id(request, caller, model_id)
    model = await run_in_threadpool(sharing_handlers.unshare_model, get_rt(request), caller.project_id, mid)
    return owned_model_json(model)
