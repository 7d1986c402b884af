"""SDK calls for versions and model management (functions over an ``XerotierClient``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from xerotier.client.http import XerotierClient, ref_segment


def _v(version: str) -> str:
    return quote(version, safe="")


def list_versions(client: XerotierClient, model_id: str) -> list[dict[str, Any]]:
    return client.request("GET", f"/v1/models/{ref_segment(model_id)}/versions")["versions"]


def create_version(
    client: XerotierClient, model_id: str, version: str, notes: str | None = None, copy_files: bool = False
) -> dict[str, Any]:
    body: dict[str, Any] = {"version": version, "versionNotes": notes}
    if copy_files:
        body["copyFiles"] = True
    return client.request("POST", f"/v1/models/{ref_segment(model_id)}/versions", json=body)


def promote(client: XerotierClient, model_id: str, version: str) -> dict[str, Any]:
    return client.request("POST", f"/v1/models/{ref_segment(model_id)}/versions/{_v(version)}/promote")


def rollback(client: XerotierClient, model_id: str, version: str) -> dict[str, Any]:
    return client.request("POST", f"/v1/models/{ref_segment(model_id)}/versions/{_v(version)}/rollback")


def history(client: XerotierClient, model_id: str, limit: int = 100) -> list[dict[str, Any]]:
    return client.request(
        "GET", f"/v1/models/{ref_segment(model_id)}/versions/history", params={"limit": limit}
    )["history"]


def diff(client: XerotierClient, model_id: str, from_version: str, to_version: str) -> dict[str, Any]:
    params = {"from": from_version, "to": to_version}
    return client.request("GET", f"/v1/models/{ref_segment(model_id)}/versions/diff", params=params)


def list_models_page(client: XerotierClient, **filters: Any) -> dict[str, Any]:
    """One page of ``GET /v1/models``: ``{"models": [...], "nextCursor": ...}``."""
    params = {k: v for k, v in filters.items() if v is not None}
    return client.request("GET", "/v1/models", params=params)


def rename(client: XerotierClient, model_id: str, name: str) -> dict[str, Any]:
    return client.request("POST", f"/v1/models/{ref_segment(model_id)}/rename", json={"name": name})


def update(client: XerotierClient, model_id: str, **fields: Any) -> dict[str, Any]:
    return client.request("PATCH", f"/v1/models/{ref_segment(model_id)}", json=fields)


def delete(
    client: XerotierClient, model_id: str, force: bool = False, all_versions: bool = False
) -> dict[str, Any]:
    params = {"force": str(force).lower(), "allVersions": str(all_versions).lower()}
    return client.request("DELETE", f"/v1/models/{ref_segment(model_id)}", params=params)
