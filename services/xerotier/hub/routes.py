"""HTTP routes of the Hugging Face Hub protocol, mounted at the root (``HF_ENDPOINT=<registry URL>``).

    GET       /api/models/{namespace}/{name}[/revision/{revision}]       model_info / repo_info
    GET       /api/models/{namespace}/{name}/tree/{revision}[/{path}]    list_repo_tree
    GET|HEAD  /{namespace}/{name}/resolve/{revision}/{path}              hf_hub_download

The key is the usual ``Authorization: Bearer xero_…`` (``HF_TOKEN``). Files are answered by the same
streaming code as ``/v1/models/{model}/files/{path}`` plus the Hub's headers (``X-Linked-Etag``,
``X-Linked-Size``, ``X-Repo-Commit``); errors carry the Hub's ``X-Error-Code``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from xerotier.api.deps import Caller, get_caller, get_rt
from xerotier.api.file_responses import file_response
from xerotier.api.http_errors import http_status_of
from xerotier.db.model_files import FileHit
from xerotier.domain.paths import normalize_model_path
from xerotier.errors import AuthenticationRequired, InvalidInput
from xerotier.hub import handlers
from xerotier.hub.protocol import HubError, bad_credentials, file_headers, model_info, tree

#: Not in the registry's OpenAPI: these routes speak the Hub's protocol (its error bodies are
#: ``{"error": "<message>"}``, the shape ``huggingface_hub`` reads, not the registry's envelope).
router = APIRouter(tags=["hub"], include_in_schema=False)


async def _answer(request: Request, action: Callable[[Caller], Awaitable[Response]]) -> Response:
    """Authenticate, run ``action``; a ``HubError`` (or a refused key) as the Hub answers it."""
    try:
        try:
            caller = await get_caller(request)
        except AuthenticationRequired:
            raise bad_credentials() from None
        return await action(caller)
    except HubError as exc:
        if request.method == "HEAD":
            return Response(status_code=exc.status, headers=exc.headers())
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers())
    except InvalidInput as exc:
        return JSONResponse({"error": exc.message}, status_code=http_status_of(exc)[0])


@router.get("/api/models/{namespace}/{name}", response_model=None)
@router.get("/api/models/{namespace}/{name}/revision/{revision}", response_model=None)
async def hub_model_info(namespace: str, name: str, request: Request, revision: str = "main") -> Response:
    """The repository at ``revision`` (``main``: the latest version), with its files (``siblings``)."""

    async def action(caller: Caller) -> Response:
        repo, files, tags = await run_in_threadpool(
            handlers.repo_info,
            get_rt(request),
            caller.project_id,
            caller.project_slug,
            namespace,
            name,
            revision,
        )
        return JSONResponse(model_info(repo.repo_id, repo.version, files, tags, repo.commit))

    return await _answer(request, action)


@router.get("/api/models/{namespace}/{name}/tree/{revision}", response_model=None)
@router.get("/api/models/{namespace}/{name}/tree/{revision}/{path:path}", response_model=None)
async def hub_tree(
    namespace: str,
    name: str,
    revision: str,
    request: Request,
    path: str = "",
    recursive: bool = Query(False),
    expand: bool = Query(False),
) -> Response:
    """The files (and folders) of the version, one page (no ``Link: next``)."""

    async def action(caller: Caller) -> Response:
        repo, files, _ = await run_in_threadpool(
            handlers.repo_info,
            get_rt(request),
            caller.project_id,
            caller.project_slug,
            namespace,
            name,
            revision,
        )
        under = path.strip("/")
        entries: list[dict[str, Any]] = tree(files, under, recursive)
        if under and not entries:
            raise HubError(404, "EntryNotFound", f"{under} does not exist on {revision}", repo.commit)
        return JSONResponse(entries)

    return await _answer(request, action)


@router.api_route(
    "/{namespace}/{name}/resolve/{revision}/{path:path}", methods=["GET", "HEAD"], response_model=None
)
async def hub_resolve(namespace: str, name: str, revision: str, path: str, request: Request) -> Response:
    """One file's bytes with the Hub's headers (ranges, ``If-None-Match`` as on ``/v1``)."""

    async def action(caller: Caller) -> Response:
        runtime, wanted = get_rt(request), normalize_model_path(path)
        repo, row = await run_in_threadpool(
            handlers.repo_entry,
            runtime,
            caller.project_id,
            caller.project_slug,
            namespace,
            name,
            revision,
            wanted,
        )
        hit = FileHit(repo.version.id, repo.name, repo.version.version, row.path, row.sha256, row.size_bytes)
        return await file_response(
            request, runtime, hit, file_headers(row.sha256, row.size_bytes, repo.commit)
        )

    return await _answer(request, action)
