"""HTTP routes of versioning and model management: versions, promote/rollback, history, diff,
model list filters and pages, rename, update, delete."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from xerotier.api.deps import Caller, async_reader, get_caller, get_rt, parse_model_id
from xerotier.api.serialize import model_json
from xerotier.catalog import management, promotion, versions_handlers
from xerotier.catalog.listing import MAX_LIMIT, ListFilter
from xerotier.db.models import Model
from xerotier.db.versioning_models import PromotionEvent
from xerotier.domain.versioning import PromotionKind

router = APIRouter(tags=["versions"])


class CreateVersionBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    version: str
    version_notes: str | None = Field(None, alias="versionNotes")
    copy_files: bool = Field(False, alias="copyFiles")


class RenameBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str


class UpdateBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    workload_type: str | None = Field(None, alias="workloadType")
    version_notes: str | None = Field(None, alias="versionNotes")


def history_json(row: PromotionEvent) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "from": row.from_version,
        "to": row.to_version,
        "fromVersionId": str(row.from_model_id) if row.from_model_id else None,
        "toVersionId": str(row.to_model_id) if row.to_model_id else None,
        "who": str(row.actor_key_id) if row.actor_key_id else None,
        "when": row.created_at.isoformat(),
    }


def _brief(model: Model) -> dict[str, Any]:
    return {"id": str(model.id), "name": model.name, "version": model.version, "status": model.status}


# ---- model management -------------------------------------------------------------------------


@router.get("/models", response_model=None)
async def list_models(
    request: Request,
    caller: Caller = Depends(get_caller),
    all_versions: bool = Query(False, alias="allVersions"),
    status: str | None = Query(None),
    architecture: str | None = Query(None),
    workload_type: str | None = Query(None, alias="workloadType"),
    name_prefix: str | None = Query(None, alias="namePrefix", max_length=200),
    cursor: str | None = Query(None, max_length=1000),
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
) -> Response:
    """Latest versions by default (``allVersions=true`` for all), filtered, in keyset pages.

    The body is written directly (FastAPI's ``jsonable_encoder`` walk of 50 models costs more than
    the query). On PostgreSQL the page is read on the event loop and each version rendered as JSON
    by the database (``model_json_column``); on SQLite it is read in the thread pool."""
    flt = ListFilter(all_versions, status, architecture, workload_type, name_prefix)
    reader = async_reader(request)
    if reader is not None:
        models, token = await management.list_models_rendered(reader, caller.project_id, flt, cursor, limit)
        body = '{"models":[' + ",".join(models) + '],"nextCursor":' + json.dumps(token) + "}"
        return Response(body, media_type="application/json")
    page = await run_in_threadpool(
        management.list_models, get_rt(request), caller.project_id, flt, cursor, limit
    )
    return JSONResponse({"models": [model_json(m) for m in page.rows], "nextCursor": page.next_cursor})


@router.patch("/models/{model_id}")
def update_model(
    model_id: str, body: UpdateBody, request: Request, caller: Caller = Depends(get_caller)
) -> dict[str, Any]:
    given = {k: getattr(body, k) for k in body.model_fields_set}
    model = management.update_version(get_rt(request), caller.project_id, parse_model_id(model_id), **given)
    return model_json(model)


@router.post("/models/{model_id}/rename")
def rename_model(
    model_id: str, body: RenameBody, request: Request, caller: Caller = Depends(get_caller)
) -> dict[str, Any]:
    return model_json(
        management.rename(get_rt(request), caller.project_id, parse_model_id(model_id), body.name)
    )


@router.delete("/models/{model_id}")
def delete_model(
    model_id: str,
    request: Request,
    caller: Caller = Depends(get_caller),
    force: bool = Query(False),
    all_versions: bool = Query(False, alias="allVersions"),
) -> dict[str, Any]:
    """Delete one version, or with ``allVersions=true`` every version of the model."""
    runtime, mid = get_rt(request), parse_model_id(model_id)
    if all_versions:
        deleted = management.delete_model(runtime, caller.project_id, mid)
        return {"deleted": [_brief(m) for m in deleted], "latest": None}
    deleted, latest = management.delete_version(
        runtime, caller.project_id, mid, force=force, actor=caller.key_id
    )
    return {"deleted": [_brief(m) for m in deleted], "latest": model_json(latest) if latest else None}


# ---- versions ---------------------------------------------------------------------------------


@router.get("/models/{model_id}/versions", response_model=None)
async def list_versions(model_id: str, request: Request, caller: Caller = Depends(get_caller)) -> Response:
    """Highest precedence first. On PostgreSQL one statement on the event loop, each version
    rendered by the database; else in the thread pool."""
    project, mid, reader = caller.project_id, parse_model_id(model_id), async_reader(request)
    if reader is not None:
        versions = await versions_handlers.list_versions_rendered(reader, project, mid)
        return Response('{"versions":[' + ",".join(versions) + "]}", media_type="application/json")
    rows = await run_in_threadpool(versions_handlers.list_versions, get_rt(request), project, mid)
    return JSONResponse({"versions": [model_json(m) for m in rows]})


@router.post("/models/{model_id}/versions", status_code=201, response_model=None)
async def create_version(
    model_id: str, body: CreateVersionBody, request: Request, caller: Caller = Depends(get_caller)
) -> Response:
    """On PostgreSQL a version of new files is created on the event loop, in one pipelined
    transaction; copying the parent's files (and SQLite) runs in the thread pool."""
    spec = versions_handlers.NewVersion(body.version, body.version_notes, body.copy_files)
    runtime, mid, reader = get_rt(request), parse_model_id(model_id), async_reader(request)
    if reader is not None and not spec.copy_files:
        created = await versions_handlers.create_version_rendered(
            runtime, reader, caller.project_id, mid, spec
        )
        return Response(created, status_code=201, media_type="application/json")
    model = await run_in_threadpool(versions_handlers.create_version, runtime, caller.project_id, mid, spec)
    return JSONResponse(model_json(model), status_code=201)


@router.get("/models/{model_id}/versions/history")
def version_history(
    model_id: str,
    request: Request,
    caller: Caller = Depends(get_caller),
    limit: int = Query(100, ge=1, le=1000),
) -> dict[str, Any]:
    runtime, mid = get_rt(request), parse_model_id(model_id)
    rows = versions_handlers.history(runtime, caller.project_id, mid, limit)
    pending = versions_handlers.pending_promotion(runtime, caller.project_id, mid)
    return {"history": [history_json(r) for r in rows], "pending": pending_json(pending)}


def pending_json(pending: versions_handlers.PendingInfo | None) -> dict[str, Any] | None:
    """The promotion waiting for its version to be ready, or None."""
    if pending is None:
        return None
    return {
        "kind": pending.kind,
        "to": pending.version,
        "toVersionId": str(pending.version_id),
        "toStatus": pending.status,
        "who": str(pending.actor_key_id) if pending.actor_key_id else None,
        "requestedAt": pending.requested_at.isoformat(),
    }


@router.get("/models/{model_id}/versions/diff")
def version_diff(
    model_id: str,
    request: Request,
    caller: Caller = Depends(get_caller),
    from_version: str = Query(..., alias="from", max_length=128),
    to_version: str = Query(..., alias="to", max_length=128),
) -> dict[str, Any]:
    mid = parse_model_id(model_id)
    return versions_handlers.diff(get_rt(request), caller.project_id, mid, from_version, to_version)


def _promotion_response(result: promotion.PromotionResult) -> JSONResponse:
    body = model_json(result.model)
    body["promotion"] = result.outcome
    return JSONResponse(body, status_code=202 if result.outcome == "pending" else 200)


@router.post("/models/{model_id}/versions/{version}/promote")
def promote_version(
    model_id: str, version: str, request: Request, caller: Caller = Depends(get_caller)
) -> JSONResponse:
    """Make ``version`` latest now (200), or when it becomes ready (202, pending)."""
    result = promotion.promote(
        get_rt(request), caller.project_id, parse_model_id(model_id), version, caller.key_id
    )
    return _promotion_response(result)


@router.post("/models/{model_id}/versions/{version}/rollback")
def rollback_version(
    model_id: str, version: str, request: Request, caller: Caller = Depends(get_caller)
) -> JSONResponse:
    """Promote an older version, recorded as a rollback."""
    result = promotion.promote(
        get_rt(request),
        caller.project_id,
        parse_model_id(model_id),
        version,
        caller.key_id,
        PromotionKind.ROLLBACK,
    )
    return _promotion_response(result)
