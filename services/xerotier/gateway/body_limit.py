"""Request bodies bounded before anything parses them (pure ASGI middleware).

Every request body except a file upload (``PUT …/models/{id}/files/…``, streamed to the blob store
under ``max_file_size``, and ``POST …/models/{id}/files``, a tar of small files under its own cap) is
limited to ``max_json_body_bytes``: a larger ``Content-Length`` is
answered 413 before a byte is read, and a body sent without one (chunked) is cut off with a 413 as
soon as it passes the limit. Either way the answer is the error envelope, and no route, dependency
or JSON parser ever sees the body.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_FILE_UPLOAD = re.compile(r"^(/[^/]+)?/v1/models/[^/]+/files/.+")
_FILE_BATCH = re.compile(r"^(/[^/]+)?/v1/models/[^/]+/files/?$")  # a tar of small files (own 64 MiB cap)


def _raw_path(scope: Scope) -> str:
    """The path as sent (a model name's ``/`` still ``%2F``: one segment), else the decoded one."""
    raw = scope.get("raw_path")
    return raw.decode("latin-1").split("?", 1)[0] if raw else scope["path"]


def _envelope(limit: int) -> bytes:
    message = f"Request body larger than {limit} bytes (XEROTIER_MAX_JSON_BODY_BYTES)"
    return json.dumps(
        {"error": {"message": message, "type": "invalid_request_error", "code": "body_too_large"}}
    ).encode()


class LimitRequestBody:
    def __init__(self, app: ASGIApp, limit_of: Any) -> None:
        """``limit_of()``: the limit in bytes (read per request: the settings live on the runtime)."""
        self.app = app
        self.limit_of = limit_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        path = _raw_path(scope)
        if (scope["method"] == "PUT" and _FILE_UPLOAD.match(path)) or (
            scope["method"] == "POST" and _FILE_BATCH.match(path)
        ):
            await self.app(scope, receive, send)
            return
        limit = int(self.limit_of(scope))
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _answer(send, limit)
            return
        if declared is not None:  # within the limit; the server holds the client to it
            await self.app(scope, receive, send)
            return
        # no length given (chunked): read it here, at most ``limit`` bytes, then hand it on
        held: list[Message] = []
        seen = 0
        while True:
            message = await receive()
            held.append(message)
            if message["type"] != "http.request":
                break
            seen += len(message.get("body", b""))
            if seen > limit:
                await _answer(send, limit)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return held.pop(0) if held else await receive()

        await self.app(scope, replay, send)


async def _answer(send: Send, limit: int) -> None:
    body = _envelope(limit)
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
