"""HTTP routes of a model's versions: list (keyset pages), create, promote / rollback, history, diff."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from xerotier.api.deps import Caller, get_caller, get_rt
from xerotier.api.model_refs import model_id_of, resolve_model_id
from xerotier.api.schemas import ModelOut, VersionList, error_responses
from xerotier.api.serialize import model_json
from xerotier.catalog.labels.handlers import labelled_read
from xerotier.catalog.models.listing import MAX_LIMIT
from xerotier.catalog.versions import handlers as versions_handlers
from xerotier.catalog.versions import promotion
from xerotier.catalog.versions.schemas import History, PromotionOut, VersionDiff
from xerotier.db.versioning_models import PromotionEvent
from xerotier.domain.versioning import PromotionKind

router = APIRouter(tags=["versions"])


class CreateVersionBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    version: str
    version_notes: str | None = Field(None, alias="versionNotes")
    copy_files: bool = Field(False, alias="copyFiles")


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
        "alias": row.alias,  # alias-set | alias-delete: the alias moved
    }


# ---- versions ---------------------------------------------------------------------------------


@router.get(
    "/models/{model_id}/versions",
    response_model=VersionList,
    responses=error_responses(400, 401, 404),
)
async def list_versions(
    model_id: str,
    request: Request,
    caller: Caller = Depends(get_caller),
    cursor: str | None = Query(None, max_length=1000),
    limit: int | None = Query(None, ge=1, le=MAX_LIMIT),
) -> Response:
    """Highest precedence first. With ``limit`` (or ``cursor``) one keyset page and its
    ``nextCursor`` (null on the last page); without, every version."""
    project = caller.project_id
    mid = await resolve_model_id(request, caller, model_id)
    if limit is not None or cursor is not None:
        page, bodies = await run_in_threadpool(
            labelled_read,
            versions_handlers.list_versions_page,
            get_rt(request),
            project,
            mid,
            cursor,
            limit or 50,
        )
        return JSONResponse({"versions": bodies, "nextCursor": page.next_cursor})
    _, bodies = await run_in_threadpool(
        labelled_read, versions_handlers.list_versions, get_rt(request), project, mid
    )
    return JSONResponse({"versions": bodies})


@router.post(
    "/models/{model_id}/versions",
    status_code=201,
    response_model=ModelOut,
    responses=error_responses(400, 401, 404, 409),
)
async def create_version(
    model_id: str, body: CreateVersionBody, request: Request, caller: Caller = Depends(get_caller)
) -> Response:
    """A new version whose parent is the latest (``copyFiles``: reuse the parent's blobs)."""
    spec = versions_handlers.NewVersion(body.version, body.version_notes, body.copy_files)
    runtime = get_rt(request)
    mid = await resolve_model_id(request, caller, model_id)
    model = await run_in_threadpool(versions_handlers.create_version, runtime, caller.project_id, mid, spec)
    return JSONResponse(model_json(model), status_code=201)


@router.get(
    "/models/{model_id}/versions/history",
    response_model=History,
    responses=error_responses(400, 401, 404),
)
def version_history(
    model_id: str,
    request: Request,
    caller: Caller = Depends(get_caller),
    limit: int = Query(100, ge=1, le=1000),
) -> dict[str, Any]:
    runtime = get_rt(request)
    mid = model_id_of(runtime, caller.project_id, model_id)
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


@router.get(
    "/models/{model_id}/versions/diff",
    response_model=VersionDiff,
    responses=error_responses(400, 401, 404),
)
def version_diff(
    model_id: str,
    request: Request,
    caller: Caller = Depends(get_caller),
    from_version: str = Query(..., alias="from", max_length=128),
    to_version: str = Query(..., alias="to", max_length=128),
) -> dict[str, Any]:
    mid = model_id_of(get_rt(request), caller.project_id, model_id)
    return versions_handlers.diff(get_rt(request), caller.project_id, mid, from_version, to_version)


def _promotion_response(result: promotion.PromotionResult) -> JSONResponse:
    body = model_json(result.model)
    body["promotion"] = result.outcome
    return JSONResponse(body, status_code=202 if result.outcome == "pending" else 200)


@router.post(
    "/models/{model_id}/versions/{version}/promote",
    response_model=PromotionOut,
    responses=error_responses(400, 401, 404, 409),
)
def promote_version(
    model_id: str, version: str, request: Request, caller: Caller = Depends(get_caller)
) -> JSONResponse:
    """Make ``version`` latest now (200), or when it becomes ready (202, pending)."""
    result = promotion.promote(
        get_rt(request),
        caller.project_id,
        model_id_of(get_rt(request), caller.project_id, model_id),
        version,
        caller.key_id,
    )
    return _promotion_response(result)


@router.post(
    "/models/{model_id}/versions/{version}/rollback",
    response_model=PromotionOut,
    responses=error_responses(400, 401, 404, 409),
)
def rollback_version(
    model_id: str, version: str, request: Request, caller: Caller = Depends(get_caller)
) -> JSONResponse:
    """Promote an older version, recorded as a rollback."""
    result = promotion.promote(
        get_rt(request),
        caller.project_id,
        model_id_of(get_rt(request), caller.project_id, model_id),
        version,
        caller.key_id,
        PromotionKind.ROLLBACK,
    )
    return _promotion_response(result)
