"""One file of a version as an HTTP answer: streamed from the blob store with flat memory.

``Content-Length``, ``ETag: "<sha256>"``, ``Accept-Ranges: bytes``; a single ``Range`` is a 206
(``If-Range`` honoured), ``If-None-Match`` naming the file a 304, ``HEAD`` the headers alone. With
the S3 backend and ``download_redirect`` the answer is a 307 to a short-lived presigned URL. The
bytes move one chunk (``download_chunk_bytes``) at a time, read in the thread pool.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import BinaryIO

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from xerotier.db.model_files import FileHit
from xerotier.domain.ranges import byte_range, content_range, etag_matches, etag_of
from xerotier.runtime import Runtime
from xerotier.storage.reading import open_range, presigned_url


async def _stream(handle: BinaryIO, length: int, chunk: int) -> AsyncIterator[bytes]:
    remaining = length
    try:
        while remaining > 0:
            data = await run_in_threadpool(handle.read, min(chunk, remaining))
            if not data:
                raise OSError("the stored blob is shorter than its recorded size")
            remaining -= len(data)
            yield data
    finally:
        await run_in_threadpool(handle.close)


def file_headers(hit: FileHit) -> dict[str, str]:
    return {"ETag": etag_of(hit.sha256), "Accept-Ranges": "bytes"}


async def file_response(
    request: Request, runtime: Runtime, hit: FileHit, extra: Mapping[str, str] | None = None
) -> Response:
    """The answer to ``GET``/``HEAD`` of the file ``hit`` (headers ``extra`` added to every answer)."""
    headers = {**file_headers(hit), **(extra or {})}
    if etag_matches(request.headers.get("if-none-match"), hit.sha256):
        return Response(status_code=304, headers=headers)
    settings = runtime.settings
    if settings.download_redirect and request.method == "GET":
        url = await run_in_threadpool(presigned_url, runtime.blobs, hit.sha256, settings.download_url_seconds)
        if url is not None:
            return RedirectResponse(url, status_code=307, headers=headers)
    wanted = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if if_range and not etag_matches(if_range, hit.sha256):
        wanted = None  # the client's copy is of other bytes: send the whole file
    span = byte_range(wanted, hit.size)
    status, (start, end) = (200, (0, hit.size - 1)) if span is None else (206, span)
    length = end - start + 1 if hit.size else 0
    headers["Content-Length"] = str(length)
    if status == 206:
        headers["Content-Range"] = content_range(start, end, hit.size)
    if request.method == "HEAD" or length == 0:
        return Response(status_code=status, headers=headers, media_type="application/octet-stream")
    handle = await run_in_threadpool(open_range, runtime.blobs, hit.sha256, start, end)
    body = _stream(handle, length, settings.download_chunk_bytes)
    return StreamingResponse(body, status_code=status, headers=headers, media_type="application/octet-stream")
