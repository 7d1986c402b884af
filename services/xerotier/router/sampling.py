"""What the router changes in a request before the engine sees it (pure)."""

from __future__ import annotations

from typing import Any

from xerotier.domain.clamp import clamp_max_tokens
from xerotier.errors import InvalidInput


def prepare_body(
    body: dict[str, Any],
    *,
    served_name: str,
    context_length: int,
    prompt_tokens: int | None,
    default_temperature: float | None,
    default_top_p: float | None,
) -> dict[str, Any]:
    """The request as the engine receives it.

    ``model`` becomes the engine's served name; ``max_tokens`` is clamped to the room the prompt
    leaves in the context (a prompt that fills it alone is a 400 with the numbers); a missing
    ``temperature`` / ``top_p`` takes the model's ``defaultTemperature`` / ``defaultTopP``.
    """
    out = dict(body)
    out["model"] = served_name
    if prompt_tokens is not None and context_length > 0:
        key = "max_completion_tokens" if body.get("max_completion_tokens") is not None else "max_tokens"
        asked = body.get(key)
        if asked is not None and (not isinstance(asked, int) or isinstance(asked, bool) or asked < 1):
            raise InvalidInput(f"{key} must be a positive integer")
        allowed, _clamped = clamp_max_tokens(context_length, prompt_tokens, asked)
        out[key] = allowed
    if out.get("temperature") is None and default_temperature is not None:
        out["temperature"] = default_temperature
    if out.get("top_p") is None and default_top_p is not None:
        out["top_p"] = default_top_p
    return out
