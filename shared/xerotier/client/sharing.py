"""SDK calls of the sharing area: share, catalog, tiers, endpoints (functions on a client)."""

from __future__ import annotations

from typing import Any

from xerotier.client.http import XerotierClient, ref_segment


def share(client: XerotierClient, model_id: str) -> dict[str, Any]:
    return client.request("POST", f"/v1/models/{ref_segment(model_id)}/share")


def unshare(client: XerotierClient, model_id: str) -> dict[str, Any]:
    return client.request("POST", f"/v1/models/{ref_segment(model_id)}/unshare")


def catalog_page(client: XerotierClient, **filters: Any) -> dict[str, Any]:
    """One page: ``{"models": [...], "nextCursor": ...}``; filters use the API's camelCase names."""
    params = {k: _param(v) for k, v in filters.items() if v is not None}
    return client.request("GET", "/v1/catalog/models", params=params)


def catalog_get(client: XerotierClient, model_id: str) -> dict[str, Any]:
    return client.request("GET", f"/v1/catalog/models/{model_id}")


def tiers(client: XerotierClient) -> list[dict[str, Any]]:
    return client.request("GET", "/v1/tiers")["tiers"]


def create_endpoint(client: XerotierClient, model_id: str, tier: str) -> dict[str, Any]:
    return client.request("POST", "/v1/endpoints", json={"modelId": model_id, "tier": tier})


def list_endpoints(client: XerotierClient) -> list[dict[str, Any]]:
    return client.request("GET", "/v1/endpoints")["endpoints"]


def get_endpoint(client: XerotierClient, endpoint_id: str) -> dict[str, Any]:
    return client.request("GET", f"/v1/endpoints/{endpoint_id}")


def delete_endpoint(client: XerotierClient, endpoint_id: str) -> dict[str, Any]:
    return client.request("DELETE", f"/v1/endpoints/{endpoint_id}")


def _param(value: Any) -> Any:
    return str(value).lower() if isinstance(value, bool) else value
