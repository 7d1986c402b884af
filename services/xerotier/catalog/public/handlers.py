"""The public catalog (reader side): shared models of every project, filtered, keyset-paged."""

from __future__ import annotations

import functools
import operator
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Select, and_, bindparam, or_

from xerotier.catalog.public.query import DEFAULT_WORKLOAD, CatalogFilter, Cursor, like_pattern
from xerotier.catalog.public.rows import catalog_select, entry_json
from xerotier.db.models import Model
from xerotier.db.reads import autocommit_connection
from xerotier.errors import NotFound
from xerotier.runtime import Runtime

CATALOG_NOT_FOUND = "Model not found in the catalog"


@dataclass(frozen=True)
class CatalogPage:
    models: list[dict[str, Any]]  # JSON-ready entries
    next_cursor: str | None


#: Optional filters compared to one column: field of ``CatalogFilter`` → (column, operator).
_COMPARISONS: dict[str, tuple[Any, Callable[[Any, Any], Any]]] = {
    "is_multimodal": (Model.is_multimodal, operator.eq),
    "is_pre_quantized": (Model.is_pre_quantized, operator.eq),
    "featured": (Model.featured, operator.eq),
    "catalog_role": (Model.catalog_role, operator.eq),
    "min_parameters": (Model.parameter_count, operator.ge),
    "max_parameters": (Model.parameter_count, operator.le),
    "min_context_length": (Model.context_length, operator.ge),
    "max_context_length": (Model.context_length, operator.le),
}


def page_values(f: CatalogFilter, cursor: Cursor | None, limit: int) -> dict[str, Any]:
    """The values bound into ``page_statement``'s placeholders."""
    values: dict[str, Any] = {name: getattr(f, name) for name in _COMPARISONS}
    values |= {"workload_type": f.workload_type, "limit": limit + 1}
    if f.architecture is not None:
        values["architecture"], values["architecture_lower"] = f.architecture, f.architecture.lower()
    if f.search:
        values["search"] = like_pattern(f.search)
    if cursor is not None:
        values["after_shared_at"], values["after_id"] = cursor.shared_at, cursor.id
    return values


def page_statement(f: CatalogFilter, cursor: Cursor | None) -> Select:
    """The page query (rows of ``catalog_select``) for the filters ``f`` uses, with placeholders
    (see ``page_values``)."""
    return _page_statement(*_shape(f, cursor))


def _shape(f: CatalogFilter, cursor: Cursor | None) -> tuple[Any, ...]:
    """Which filters a request uses: the key of the statements built once."""
    workload = None if f.workload_type is None else f.workload_type == DEFAULT_WORKLOAD
    used = frozenset(name for name in _COMPARISONS if getattr(f, name) is not None)
    return workload, used, f.architecture is not None, bool(f.search), cursor is not None


@functools.cache
def _page_statement(
    default_workload: bool | None,
    compared: frozenset[str],
    architecture: bool,
    search: bool,
    cursor: bool,
) -> Select:
    """Built once per combination of filters: building a statement costs more than running it.

    Plain column comparisons (no functions on columns), so the planner's estimates stay right
    and it walks the catalog index in page order instead of sorting a sequential scan."""
    query = catalog_select().where(Model.is_shared)
    if default_workload is not None:
        workload = Model.workload_type == bindparam("workload_type")
        query = query.where(or_(workload, Model.workload_type.is_(None)) if default_workload else workload)
    if architecture:
        query = query.where(
            Model.architecture.in_([bindparam("architecture"), bindparam("architecture_lower")])
        )
    for name in sorted(compared):
        column, compare = _COMPARISONS[name]
        query = query.where(compare(column, bindparam(name)))
    if search:
        query = query.where(Model.name.ilike(bindparam("search"), escape="\\"))
    if cursor:
        after_shared_at, after_id = (
            bindparam("after_shared_at", type_=Model.shared_at.type),
            bindparam("after_id", type_=Model.id.type),
        )
        query = query.where(
            or_(
                Model.shared_at < after_shared_at,
                and_(Model.shared_at == after_shared_at, Model.id < after_id),
            )
        )
    return query.order_by(Model.shared_at.desc(), Model.id.desc()).limit(bindparam("limit", type_=Integer))


def list_catalog(
    runtime: Runtime, f: CatalogFilter, *, limit: int = 50, cursor: Cursor | None = None
) -> CatalogPage:
    """One page of shared models, newest shared first; ``next_cursor`` is None on the last page."""
    statement, values = page_statement(f, cursor), page_values(f, cursor, limit)
    with autocommit_connection(runtime.engine) as connection:
        rows = [row._asdict() for row in connection.execute(statement, values)]
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more and rows else None
    token = Cursor(last["sharedAt"], last["id"]).encode() if last is not None and last["sharedAt"] else None
    return CatalogPage([entry_json(r) for r in rows], token)


#: Built once (a hot read).
_GET_SHARED = catalog_select().where(Model.id == bindparam("id"), Model.is_shared)


def get_catalog_model(runtime: Runtime, model_id: uuid.UUID) -> dict[str, Any]:
    with autocommit_connection(runtime.engine) as connection:
        row = connection.execute(_GET_SHARED, {"id": model_id}).mappings().first()
    if row is None:
        raise NotFound(CATALOG_NOT_FOUND)
    return entry_json(row)
