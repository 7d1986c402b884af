"""``max_tokens`` auto-clamping against the loaded context length (pure; the router and resolve)."""

from __future__ import annotations

from xerotier.errors import InvalidInput


def clamp_max_tokens(context_length: int, prompt_tokens: int, max_tokens: int | None) -> tuple[int, bool]:
    """``max_tokens ≤ context length − prompt tokens``; returns (max tokens, whether it was clamped).

    ``max_tokens`` unset means "as many as fit". A prompt that alone fills the context is an error.
    """
    if prompt_tokens < 0:
        raise InvalidInput("promptTokens must be zero or positive")
    if max_tokens is not None and max_tokens < 1:
        raise InvalidInput("maxTokens must be at least 1")
    room = context_length - prompt_tokens
    if room < 1:
        raise InvalidInput(
            f"The prompt is {prompt_tokens} tokens, which leaves no room in this endpoint's context length "
            f"of {context_length} tokens; shorten the prompt"
        )
    if max_tokens is None or max_tokens > room:
        return room, True
    return max_tokens, False
