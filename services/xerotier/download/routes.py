"""HTTP routes of downloads: ``GET``/``HEAD /models/{model}/files/{path}`` (ranges, ETag = sha256).

``{model}`` is any model reference (a version id, ``name``, ``name@1.2.0``, ``name@alias``; ``/`` in
a name written ``%2F``). Another project's model is a 404, as everywhere.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from xerotier.api.deps import Caller, get_caller, get_rt
from xerotier.api.file_responses import file_response
from xerotier.api.model_refs import parse_segment
from xerotier.db.model_files import find_file
from xerotier.domain.paths import normalize_model_path

router = APIRouter(tags=["download"])


@router.get("/models/{model_id}/files/{file_path:path}", response_model=None)
@router.head("/models/{model_id}/files/{file_path:path}", response_model=None, include_in_schema=False)
async def download_file(
    model_id: str, file_path: str, request: Request, caller: Caller = Depends(get_caller)
) -> Response:
    """The file's bytes (``Range`` → 206, ``If-None-Match`` → 304; S3 may redirect with 307)."""
    runtime, ref, path = get_rt(request), parse_segment(model_id), normalize_model_path(file_path)
    hit = await run_in_threadpool(find_file, runtime, caller.project_id, ref, path)
    return await file_response(request, runtime, hit)
