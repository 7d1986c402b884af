"""The SDK's serving calls: chat with an endpoint through the router (streamed)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx

from xerotier.client.http import ApiError, XerotierClient

VERSION_HEADER = "X-Xerotier-Model-Version"


class ChatStream:
    """The pieces of a streamed chat completion; ``version`` is the model version that served it."""

    def __init__(self, client: XerotierClient, body: dict[str, Any], timeout: float) -> None:
        self.client, self.body, self.timeout = client, body, timeout
        self.version: str | None = None
        self.usage: dict[str, Any] | None = None
        self.finish_reason: str | None = None

    def __iter__(self) -> Iterator[str]:
        http: httpx.Client = client_http(self.client)
        try:
            with http.stream("POST", "/v1/chat/completions", json=self.body, timeout=self.timeout) as answer:
                if answer.status_code >= 400:
                    answer.read()
                    raise _api_error(answer)
                self.version = answer.headers.get(VERSION_HEADER)
                for line in answer.iter_lines():
                    if not line.startswith("data: ") or line == "data: [DONE]":
                        continue
                    event = json.loads(line[6:])
                    if "error" in event:
                        raise ApiError(502, str(event["error"].get("message")), "engine_error")
                    self.usage = event.get("usage") or self.usage
                    for choice in event.get("choices") or []:
                        self.finish_reason = choice.get("finish_reason") or self.finish_reason
                        piece = (choice.get("delta") or {}).get("content")
                        if piece:
                            yield piece
        except httpx.HTTPError as exc:
            raise ApiError(0, f"Cannot reach the API at {self.client.base_url}: {exc}") from None


def client_http(client: XerotierClient) -> httpx.Client:
    return client._http  # the SDK's own connection (its key and base URL)


def _api_error(answer: httpx.Response) -> ApiError:
    try:
        err = answer.json()["error"]
        return ApiError(answer.status_code, err["message"], err.get("type"))
    except (ValueError, KeyError, TypeError):
        return ApiError(answer.status_code, answer.text[:500] or answer.reason_phrase)


def chat(
    client: XerotierClient,
    endpoint: str,
    messages: list[dict[str, Any]],
    *,
    max_tokens: int | None = None,
    temperature: float | None = None,
    timeout: float = 300.0,
) -> ChatStream:
    body: dict[str, Any] = {
        "model": endpoint,
        "messages": messages,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    if temperature is not None:
        body["temperature"] = temperature
    return ChatStream(client, body, timeout)
