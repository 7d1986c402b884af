"""The routes' side of model references: a path segment (or a body field) to a version id.

Every route that takes ``{model_id}`` calls ``model_id_of`` (sync routes, in the thread pool) or
``resolve_model_id`` (async routes): a version UUID is returned as is, without a query (the use
case then reads it within the project, as before); a name, ``name@version`` or ``name@alias`` is
resolved in the database (``xerotier.db.model_refs``). The segment arrives still percent-encoded
(``xerotier.gateway.model_paths``) and is decoded here, exactly once.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Row

from xerotier.api.deps import Caller, get_rt
from xerotier.db.model_refs import resolve_row
from xerotier.db.reads import autocommit_connection
from xerotier.domain.model_ref import ModelRef, decode_segment, parse_model_ref
from xerotier.runtime import Runtime


def parse_segment(raw: str, *, encoded: bool = True) -> ModelRef:
    return parse_model_ref(decode_segment(raw) if encoded else raw)


def resolve_ref_row(runtime: Runtime, project_id: str, ref: ModelRef) -> Row[Any]:
    with autocommit_connection(runtime.engine) as connection:
        return resolve_row(connection, project_id, ref)


def model_id_of(runtime: Runtime, project_id: str, raw: str, *, encoded: bool = True) -> uuid.UUID:
    """The version id ``raw`` names in the project (a UUID without a query)."""
    ref = parse_segment(raw, encoded=encoded)
    if ref.version_id is not None:
        return ref.version_id
    return resolve_ref_row(runtime, project_id, ref).id


async def resolve_model_id(request: Request, caller: Caller, raw: str) -> uuid.UUID:
    """``model_id_of`` for async routes: a UUID costs no thread hop, a name one query."""
    ref = parse_segment(raw)
    if ref.version_id is not None:
        return ref.version_id
    row = await run_in_threadpool(resolve_ref_row, get_rt(request), caller.project_id, ref)
    return row.id
