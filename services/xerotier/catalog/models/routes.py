"""HTTP routes of the ``/models`` resource: list (filters, keyset pages), get, update, rename, delete,
lifecycle history, revalidation. Versions: ``catalog.versions``; files: the upload and download
services."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from xerotier.api.deps import Caller, get_caller, get_rt
from xerotier.api.model_refs import model_id_of, resolve_model_id
from xerotier.api.schemas import EventList, ModelList, ModelOut, error_responses
from xerotier.api.serialize import event_json, model_json
from xerotier.catalog.labels.handlers import labelled_read
from xerotier.catalog.models import handlers, management
from xerotier.catalog.models.listing import MAX_LIMIT, ListFilter
from xerotier.catalog.models.schemas import DeleteResult
from xerotier.db.models import Model
from xerotier.db.revalidation import request_revalidation
from xerotier.domain.model_ref import parse_tag_filter

router = APIRouter(tags=["models"])


@router.get(
    "/models/{model_id}",
    response_model=ModelOut,
    responses=error_responses(400, 401, 404),
)
async def get_model(model_id: str, request: Request, caller: Caller = Depends(get_caller)) -> Response:
    project = caller.project_id
    mid = await resolve_model_id(request, caller, model_id)
    _, (body,) = await run_in_threadpool(labelled_read, handlers.get_model, get_rt(request), project, mid)
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


class RenameBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str


class UpdateBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    workload_type: str | None = Field(None, alias="workloadType")
    version_notes: str | None = Field(None, alias="versionNotes")


def _brief(model: Model) -> dict[str, Any]:
    return {"id": str(model.id), "name": model.name, "version": model.version, "status": model.status}


@router.get(
    "/models",
    response_model=ModelList,
    responses=error_responses(400, 401),
)
async def list_models(
    request: Request,
    caller: Caller = Depends(get_caller),
    all_versions: bool = Query(False, alias="allVersions"),
    status: str | None = Query(None),
    architecture: str | None = Query(None),
    workload_type: str | None = Query(None, alias="workloadType"),
    name_prefix: str | None = Query(None, alias="namePrefix", max_length=200),
    tag: list[str] = Query([], max_length=20),
    cursor: str | None = Query(None, max_length=1000),
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
) -> Response:
    """Latest versions by default (``allVersions=true`` for all), filtered, in keyset pages."""
    tags = tuple(parse_tag_filter(t) for t in tag)
    flt = ListFilter(all_versions, status, architecture, workload_type, name_prefix, tags)
    page, bodies = await run_in_threadpool(
        labelled_read, management.list_models, get_rt(request), caller.project_id, flt, cursor, limit
    )
    return JSONResponse({"models": bodies, "nextCursor": page.next_cursor})


@router.patch(
    "/models/{model_id}",
    response_model=ModelOut,
    responses=error_responses(400, 401, 404),
)
def update_model(
    model_id: str, body: UpdateBody, request: Request, caller: Caller = Depends(get_caller)
) -> dict[str, Any]:
    given = {k: getattr(body, k) for k in body.model_fields_set}
    model = management.update_version(
        get_rt(request), caller.project_id, model_id_of(get_rt(request), caller.project_id, model_id), **given
    )
    return model_json(model)


@router.post(
    "/models/{model_id}/rename",
    response_model=ModelOut,
    responses=error_responses(400, 401, 404, 409),
)
def rename_model(
    model_id: str, body: RenameBody, request: Request, caller: Caller = Depends(get_caller)
) -> dict[str, Any]:
    return model_json(
        management.rename(
            get_rt(request),
            caller.project_id,
            model_id_of(get_rt(request), caller.project_id, model_id),
            body.name,
        )
    )


@router.delete(
    "/models/{model_id}",
    response_model=DeleteResult,
    responses=error_responses(400, 401, 404, 409),
)
def delete_model(
    model_id: str,
    request: Request,
    caller: Caller = Depends(get_caller),
    force: bool = Query(False),
    all_versions: bool = Query(False, alias="allVersions"),
) -> dict[str, Any]:
    """Delete one version, or with ``allVersions=true`` every version of the model."""
    runtime = get_rt(request)
    mid = model_id_of(runtime, caller.project_id, model_id)
    if all_versions:
        deleted = management.delete_model(runtime, caller.project_id, mid)
        return {"deleted": [_brief(m) for m in deleted], "latest": None}
    deleted, latest = management.delete_version(
        runtime, caller.project_id, mid, force=force, actor=caller.key_id
    )
    return {"deleted": [_brief(m) for m in deleted], "latest": model_json(latest) if latest else None}
