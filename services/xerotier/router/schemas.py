"""Response schemas of the OpenAI-compatible routes, as OpenAI and vLLM answer them (the router
passes the engine's answer through unchanged; these document it). ``stream: true`` answers
``text/event-stream`` instead: ``data: {chunk}`` lines, then ``data: [DONE]``."""

from __future__ import annotations

from typing import Any

from xerotier.api.schemas import Schema


class Usage(Schema):
    prompt_tokens: int
    completion_tokens: int | None = None
    total_tokens: int


class ChatChoice(Schema):
    index: int
    message: dict[str, Any]
    finish_reason: str | None


class ChatCompletion(Schema):
    id: str
    object: str  # "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: Usage | None = None


class CompletionChoice(Schema):
    index: int
    text: str
    finish_reason: str | None


class Completion(Schema):
    id: str
    object: str  # "text_completion"
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: Usage | None = None


class Embedding(Schema):
    index: int
    object: str  # "embedding"
    embedding: list[float]


class Embeddings(Schema):
    object: str  # "list"
    data: list[Embedding]
    model: str
    usage: Usage | None = None


#: The streamed form of a completion (``stream: true``).
STREAMED: dict[str, Any] = {"text/event-stream": {"schema": {"type": "string"}}}
