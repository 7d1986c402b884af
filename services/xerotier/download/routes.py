"""HTTP routes of downloads: ``GET``/``HEAD /models/{model}/files/{path}`` (ranges, ETag = sha256).

``{model}`` is any model reference (a version id, ``name``, ``name@1.2.0``, ``name@alias``; ``/`` in
a name written ``%2F``). Another project's model is a 404, as everywhere.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from xerotier.api.deps import Caller, get_caller, get_rt
from xerotier.api.file_responses import file_response
from xerotier.api.model_refs import parse_segment
from xerotier.api.schemas import error_responses
from xerotier.db.model_files import find_file
from xerotier.domain.paths import normalize_model_path

router = APIRouter(tags=["download"])


#: What a download answers: the bytes (200, or 206 for a range), or the error envelope.
FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file's bytes (ETag: the sha256; Accept-Ranges: bytes)",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    },
    206: {"description": "The requested range (Content-Range)"},
    304: {"description": "Not modified (If-None-Match named the file's ETag)"},
    307: {"description": "Redirect to a short-lived presigned URL (S3 backend, XEROTIER_DOWNLOAD_REDIRECT)"},
    **error_responses(400, 401, 404, 416),
}


@router.get("/models/{model_id}/files/{file_path:path}", response_class=Response, responses=FILE_RESPONSES)
@router.head(
    "/models/{model_id}/files/{file_path:path}",
    response_class=Response,
    responses=FILE_RESPONSES,
    include_in_schema=False,
)
async def download_file(
    model_id: str, file_path: str, request: Request, caller: Caller = Depends(get_caller)
) -> Response:
    """The file's bytes (``Range`` → 206, ``If-None-Match`` → 304; S3 may redirect with 307)."""
    runtime, ref, path = get_rt(request), parse_segment(model_id), normalize_model_path(file_path)
    hit = await run_in_threadpool(find_file, runtime, caller.project_id, ref, path)
    return await file_response(request, runtime, hit)
