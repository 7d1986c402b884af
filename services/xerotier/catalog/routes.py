"""HTTP routes of the catalog service: model get, lifecycle history, revalidation (list: versions_routes)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from xerotier.api.deps import Caller, get_caller, get_rt
from xerotier.api.model_refs import model_id_of, resolve_model_id
from xerotier.api.schemas import EventList, ModelOut, error_responses
from xerotier.api.serialize import event_json, model_json
from xerotier.catalog import handlers
from xerotier.catalog.labels_handlers import with_labels
from xerotier.db.revalidation import request_revalidation

router = APIRouter(tags=["models"])


@router.get(
    "/models/{model_id}",
    response_model=ModelOut,
    responses=error_responses(400, 401, 404),
)
async def get_model(model_id: str, request: Request, caller: Caller = Depends(get_caller)) -> Response:
    project = caller.project_id
    mid = await resolve_model_id(request, caller, model_id)
    model = await run_in_threadpool(handlers.get_model, get_rt(request), project, mid)
    body = model_json(model)
    await run_in_threadpool(with_labels, get_rt(request), project, [model], [body])
    return JSONResponse(body)  # JSON-native already: no jsonable_encoder walk


@router.get(
    "/models/{model_id}/events",
    response_model=EventList,
    responses=error_responses(400, 401, 404),
)
def model_events(model_id: str, request: Request, caller: Caller = Depends(get_caller)) -> dict[str, Any]:
    rows = handlers.lifecycle_events(
        get_rt(request), caller.project_id, model_id_of(get_rt(request), caller.project_id, model_id)
    )
    return {"events": [event_json(r) for r in rows]}


@router.post(
    "/models/{model_id}/revalidate",
    status_code=202,
    response_model=ModelOut,
    responses=error_responses(400, 401, 404, 409),
)
def revalidate(model_id: str, request: Request, caller: Caller = Depends(get_caller)) -> dict[str, Any]:
    model = request_revalidation(
        get_rt(request), model_id_of(get_rt(request), caller.project_id, model_id), caller.project_id
    )
    return model_json(model)
