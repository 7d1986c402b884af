"""SDK calls of the loading service: load plans, backends, endpoint resolution."""

from __future__ import annotations

from typing import Any

from xerotier.client.http import XerotierClient, ref_segment


def load_plan(client: XerotierClient, model_id: str, **target: Any) -> dict[str, Any]:
    body = {k: v for k, v in target.items() if v is not None}
    return client.request("POST", f"/v1/models/{ref_segment(model_id)}/load-plan", json=body)


def list_backends(client: XerotierClient) -> list[dict[str, Any]]:
    return client.request("GET", "/v1/backends")["backends"]


def get_backend(client: XerotierClient, backend_id: str) -> dict[str, Any]:
    return client.request("GET", f"/v1/backends/{backend_id}")


def resolve_endpoint(
    client: XerotierClient, endpoint_id: str, prompt_tokens: int = 0, max_tokens: int | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"promptTokens": prompt_tokens}
    if max_tokens is not None:
        body["maxTokens"] = max_tokens
    return client.request("POST", f"/v1/endpoints/{endpoint_id}/resolve", json=body)
