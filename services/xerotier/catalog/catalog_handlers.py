"""The public catalog (reader side): shared models of every project, filtered, keyset-paged."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, or_

from xerotier.catalog.catalog_query import DEFAULT_WORKLOAD, CatalogFilter, Cursor, like_pattern
from xerotier.catalog.catalog_rows import catalog_select, entry_json
from xerotier.db.models import Model
from xerotier.db.reads import autocommit_connection
from xerotier.errors import NotFound
from xerotier.runtime import Runtime

CATALOG_NOT_FOUND = "Model not found in the catalog"


@dataclass(frozen=True)
class CatalogPage:
    models: list[dict[str, Any]]  # JSON-ready entries
    next_cursor: str | None


def _filtered(query: Select, f: CatalogFilter) -> Select:
    """Plain column comparisons (no functions on columns), so the planner's estimates stay right
    and it walks the catalog index in page order instead of sorting a sequential scan."""
    conditions = []
    if f.workload_type == DEFAULT_WORKLOAD:
        conditions.append(or_(Model.workload_type == f.workload_type, Model.workload_type.is_(None)))
    elif f.workload_type is not None:
        conditions.append(Model.workload_type == f.workload_type)
    if f.architecture is not None:
        conditions.append(Model.architecture.in_(sorted({f.architecture, f.architecture.lower()})))
    if f.is_multimodal is not None:
        conditions.append(Model.is_multimodal.is_(f.is_multimodal))
    if f.is_pre_quantized is not None:
        conditions.append(Model.is_pre_quantized.is_(f.is_pre_quantized))
    if f.featured is not None:
        conditions.append(Model.featured.is_(f.featured))
    if f.catalog_role is not None:
        conditions.append(Model.catalog_role == f.catalog_role)
    if f.min_parameters is not None:
        conditions.append(Model.parameter_count >= f.min_parameters)
    if f.max_parameters is not None:
        conditions.append(Model.parameter_count <= f.max_parameters)
    if f.min_context_length is not None:
        conditions.append(Model.context_length >= f.min_context_length)
    if f.max_context_length is not None:
        conditions.append(Model.context_length <= f.max_context_length)
    if f.search:
        conditions.append(Model.name.ilike(like_pattern(f.search), escape="\\"))
    return query.where(*conditions)


def list_catalog(
    runtime: Runtime, f: CatalogFilter, *, limit: int = 50, cursor: Cursor | None = None
) -> CatalogPage:
    """One page of shared models, newest shared first; ``next_cursor`` is None on the last page."""
    query = _filtered(catalog_select().where(Model.is_shared), f)
    if cursor is not None:
        query = query.where(
            or_(
                Model.shared_at < cursor.shared_at,
                and_(Model.shared_at == cursor.shared_at, Model.id < cursor.id),
            )
        )
    query = query.order_by(Model.shared_at.desc(), Model.id.desc()).limit(limit + 1)
    with autocommit_connection(runtime.engine) as connection:
        rows = connection.execute(query).mappings().all()
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more and rows else None
    token = Cursor(last["sharedAt"], last["id"]).encode() if last is not None and last["sharedAt"] else None
    return CatalogPage([entry_json(r) for r in rows], token)


def get_catalog_model(runtime: Runtime, model_id: uuid.UUID) -> dict[str, Any]:
    with autocommit_connection(runtime.engine) as connection:
        row = (
            connection.execute(catalog_select().where(Model.id == model_id, Model.is_shared))
            .mappings()
            .first()
        )
    if row is None:
        raise NotFound(CATALOG_NOT_FOUND)
    return entry_json(row)
