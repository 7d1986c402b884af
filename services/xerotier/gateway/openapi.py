"""The API's OpenAPI document: FastAPI's, less what the gateway never answers.

Request validation failures are answered 400 in the error envelope (``gateway.errors``), never
FastAPI's 422, so the 422 responses and their schemas are removed. The ``/{project_id}/v1`` copies
of the routes declare their path parameter.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

PROJECT_PARAMETER = {
    "name": "project_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "The project's id (proj_…) or slug; it must be the key's project (else 404).",
}
_UNUSED = ("HTTPValidationError", "ValidationError")


def registry_openapi(app: FastAPI) -> dict[str, Any]:
    """The document, built once per app."""
    if app.openapi_schema is None:
        document = get_openapi(title=app.title, version=app.version, routes=app.routes)
        app.openapi_schema = without_unanswered(document)
    return app.openapi_schema


def without_unanswered(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` without 422 responses, with the project path parameter declared (pure)."""
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            operation.get("responses", {}).pop("422", None)
            parameters = operation.setdefault("parameters", [])
            if path.startswith("/{project_id}/") and all(p.get("name") != "project_id" for p in parameters):
                parameters.insert(0, dict(PROJECT_PARAMETER))
            if not parameters:
                operation.pop("parameters")
    schemas = document.get("components", {}).get("schemas", {})
    for name in _UNUSED:
        schemas.pop(name, None)
    return document


def install_openapi(app: FastAPI) -> None:
    app.openapi = lambda: registry_openapi(app)  # type: ignore[method-assign]
