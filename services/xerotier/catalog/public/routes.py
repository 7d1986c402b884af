"""HTTP routes: the public catalog and the service tiers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from xerotier.api.deps import Caller, get_caller, get_rt, parse_model_id
from xerotier.api.schemas import error_responses
from xerotier.catalog.public import handlers as catalog_handlers
from xerotier.catalog.public.query import MAX_PAGE, CatalogFilter, Cursor
from xerotier.catalog.public.schemas import CatalogEntry, CatalogPage, TierList
from xerotier.domain.tiers import TIERS, allowed_tiers, parse_role

router = APIRouter(tags=["catalog"])
# the columns' ranges: a larger filter is a 400, never a database overflow (found by schemathesis)
INT_MAX, BIGINT_MAX = 2**31 - 1, 2**63 - 1


@router.get(
    "/catalog/models",
    response_model=CatalogPage,
    responses=error_responses(400, 401),
)
async def list_catalog(
    request: Request,
    _caller: Caller = Depends(get_caller),
    workload_type: str | None = Query(None, alias="workloadType"),
    architecture: str | None = Query(None, max_length=64),
    is_multimodal: bool | None = Query(None, alias="isMultimodal"),
    min_parameters: int | None = Query(None, alias="minParameters", le=BIGINT_MAX),
    max_parameters: int | None = Query(None, alias="maxParameters", le=BIGINT_MAX),
    min_context_length: int | None = Query(None, alias="minContextLength", le=INT_MAX),
    max_context_length: int | None = Query(None, alias="maxContextLength", le=INT_MAX),
    is_pre_quantized: bool | None = Query(None, alias="isPreQuantized"),
    search: str | None = Query(None, alias="q"),
    featured: bool | None = Query(None),
    catalog_role: str | None = Query(None, alias="catalogRole"),
    limit: int = Query(50, ge=1, le=MAX_PAGE),
    cursor: str | None = Query(None, max_length=200),
) -> JSONResponse:
    """Shared models of every project, newest shared first, ``limit`` per page (keyset cursor)."""
    filters = CatalogFilter(
        workload_type=workload_type,
        architecture=architecture,
        is_multimodal=is_multimodal,
        min_parameters=min_parameters,
        max_parameters=max_parameters,
        min_context_length=min_context_length,
        max_context_length=max_context_length,
        is_pre_quantized=is_pre_quantized,
        search=search,
        featured=featured,
        catalog_role=parse_role(catalog_role).value if catalog_role is not None else None,
    )
    after = Cursor.decode(cursor) if cursor else None
    page = await run_in_threadpool(
        catalog_handlers.list_catalog, get_rt(request), filters, limit=limit, cursor=after
    )
    return JSONResponse({"models": page.models, "nextCursor": page.next_cursor})


@router.get(
    "/catalog/models/{model_id}",
    response_model=CatalogEntry,
    responses=error_responses(400, 401, 404),
)
def get_catalog_model(
    model_id: str, request: Request, _caller: Caller = Depends(get_caller)
) -> dict[str, Any]:
    return catalog_handlers.get_catalog_model(get_rt(request), parse_model_id(model_id))


@router.get(
    "/tiers",
    response_model=TierList,
    responses=error_responses(401),
)
async def list_tiers(_caller: Caller = Depends(get_caller)) -> dict[str, Any]:
    """Every service tier and the catalog roles it may select."""
    return {
        "tiers": [
            {
                "slug": t.slug,
                "name": t.name,
                "description": t.description,
                "isShared": t.is_shared,
                "allowedRoles": [r for r in ("deployable", "shared") if t.slug in allowed_tiers(r)],
            }
            for t in TIERS
        ]
    }
