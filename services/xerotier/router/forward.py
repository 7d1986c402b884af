"""Forward a request to the engine and stream its answer back unchanged (plus the version header)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi.responses import JSONResponse, Response, StreamingResponse

from xerotier.router.handlers import Route

VERSION_HEADER = "X-Xerotier-Model-Version"


class EngineUnreachable(Exception):
    """The engine refused the connection (e.g. it was unloaded after a switch): safe to retry."""


def served_headers(found: Route) -> dict[str, str]:
    return {
        VERSION_HEADER: found.version,
        "X-Xerotier-Model-Id": str(found.model_id),
        "X-Xerotier-Endpoint-Id": str(found.endpoint_id),
    }


def engine_failure(found: Route, message: str) -> JSONResponse:
    return JSONResponse(
        {
            "error": {
                "message": f"The engine serving {found.model_name} {found.version} failed: {message}",
                "type": "engine_error",
                "code": None,
            }
        },
        status_code=502,
        headers=served_headers(found),
    )


async def forward(
    client: httpx.AsyncClient, found: Route, path: str, body: dict[str, Any], stream: bool
) -> Response:
    """POST ``body`` to the engine's ``path``; its status, body and stream pass through unchanged
    (an engine 5xx becomes a 502 in the envelope). Raises ``EngineUnreachable`` before anything
    was sent, so the caller may route again."""
    headers = served_headers(found)
    request = client.build_request("POST", found.engine_url + path, json=body)
    try:
        response = await client.send(request, stream=stream)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise EngineUnreachable(str(exc)) from None
    except httpx.HTTPError as exc:
        return engine_failure(found, f"{type(exc).__name__}: {exc}")
    if response.status_code >= 500:
        text = (await response.aread()).decode(errors="replace")[:500]
        await response.aclose()
        return engine_failure(found, f"HTTP {response.status_code}: {text}")
    media = response.headers.get("content-type", "application/json")
    if not stream or response.status_code >= 400:
        try:
            content = await response.aread()
        except httpx.HTTPError as exc:
            return engine_failure(found, f"{type(exc).__name__}: {exc}")
        finally:
            await response.aclose()
        return Response(content, status_code=response.status_code, media_type=media, headers=headers)

    async def chunks() -> AsyncIterator[bytes]:
        try:
            async for chunk in response.aiter_raw():
                yield chunk
        finally:
            await response.aclose()

    return StreamingResponse(chunks(), status_code=response.status_code, media_type=media, headers=headers)
