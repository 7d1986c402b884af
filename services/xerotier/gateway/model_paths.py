"""Model references in URL paths: ``/v1/models/{model}/…`` where ``{model}`` may be a name with
``/`` written ``%2F`` (``meta-llama%2FLlama-3.1-8B@2.0.0``).

Starlette routes on the *decoded* path, where ``%2F`` has become ``/`` and the segment would split.
This ASGI middleware rewrites ``scope["path"]`` so that the model segment stays as the client
encoded it (every other segment decoded as usual); the route receives it encoded and
``xerotier.api.model_refs`` decodes it once. Paths without a ``%`` in that segment are untouched.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

#: Where the model segment is, in the split raw path: ['', 'v1', 'models', X] or ['', P, 'v1', 'models', X].
_MODEL_SEGMENT_AT = (3, 4)


def encoded_model_path(raw_path: str) -> str | None:
    """The path to route on when the model segment of ``raw_path`` is percent-encoded, else None."""
    segments = raw_path.split("/")
    for at in _MODEL_SEGMENT_AT:
        if (
            len(segments) > at
            and segments[at - 1] == "models"
            and segments[at - 2] == "v1"
            and "%" in segments[at]
        ):
            decoded = [unquote(s) for s in segments]
            decoded[at] = segments[at]
            return "/".join(decoded)
    return None


class EncodedModelSegment:
    """Keeps the model segment of ``/v1/models/…`` percent-encoded for routing (see module doc)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            raw = scope.get("raw_path")
            if raw and b"%" in raw:
                rewritten = encoded_model_path(raw.split(b"?", 1)[0].decode("latin-1"))
                if rewritten is not None:
                    scope = dict(scope, path=rewritten)
        await self.app(scope, receive, send)
