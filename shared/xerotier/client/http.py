"""The HTTP SDK that ``xeroctl`` (and anyone) uses to talk to the registry."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx


def ref_segment(model: str) -> str:
    """A model reference (id, ``name``, ``org/name@2.0.0``, ``name@alias``) as ONE URL path segment:
    ``/`` written ``%2F`` (the gateway keeps that segment encoded while routing)."""
    return quote(model, safe="@")


class ApiError(Exception):
    """An error answered by the API (its envelope's message), or a connection failure (status 0)."""

    def __init__(self, status: int, message: str, error_type: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type


class XerotierClient:
    def __init__(self, base_url: str, api_key: str | None, timeout: float = 30.0) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._headers = headers
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    @property
    def http(self) -> httpx.Client:
        """The underlying client (authenticated, base URL set), for streamed downloads."""
        return self._http

    def auth_headers(self) -> dict[str, str]:
        """The headers every request carries (for a transfer made outside this client)."""
        return dict(self._headers)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> XerotierClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ApiError(0, f"Cannot reach the API at {self.base_url}: {exc}") from None
        if response.status_code >= 400:
            self.raise_for(response)
        return response.json() if response.content else None

    @staticmethod
    def raise_for(response: httpx.Response) -> None:
        """The ``ApiError`` of an error answer (its envelope's message)."""
        try:
            err = response.json()["error"]
            raise ApiError(response.status_code, err["message"], err.get("type"))
        except (ValueError, KeyError, TypeError):
            raise ApiError(response.status_code, response.text[:500] or response.reason_phrase) from None

    # models
    def list_models(self, all_versions: bool = False) -> list[dict[str, Any]]:
        params = {"allVersions": "true"} if all_versions else {}
        return self.request("GET", "/v1/models", params=params)["models"]

    def get_model(self, model_id: str) -> dict[str, Any]:
        return self.request("GET", f"/v1/models/{ref_segment(model_id)}")

    def create_model(self, name: str, **fields: Any) -> dict[str, Any]:
        body = {"name": name, **{k: v for k, v in fields.items() if v is not None}}
        return self.request("POST", "/v1/models", json=body)

    def put_file(self, model_id: str, path: str, content: Any, sha256: str | None = None) -> dict[str, Any]:
        headers = {"Content-SHA256": sha256} if sha256 else {}
        return self.request(
            "PUT", f"/v1/models/{ref_segment(model_id)}/files/{path}", content=content, headers=headers
        )

    def complete(self, model_id: str) -> dict[str, Any]:
        return self.request("POST", f"/v1/models/{ref_segment(model_id)}/complete")

    def revalidate(self, model_id: str) -> dict[str, Any]:
        return self.request("POST", f"/v1/models/{ref_segment(model_id)}/revalidate")

    def events(self, model_id: str) -> list[dict[str, Any]]:
        return self.request("GET", f"/v1/models/{ref_segment(model_id)}/events")["events"]
