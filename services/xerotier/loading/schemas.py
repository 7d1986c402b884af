"""Response schemas of the loading service: load plans, backends, endpoint resolution."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from xerotier.api.schemas import Schema


class Plan(Schema):
    fits: bool
    contextLength: int | None
    maxSequences: int | None
    tensorParallelSize: int | None
    appliedQuantization: str | None
    reasons: list[str]


class LoadPlanOut(Plan):
    """The plan of one model version on a backend or a dry-run inventory."""

    modelId: str
    name: str
    version: str
    target: dict[str, Any] = Field(description="the backend or the dry-run inventory planned for")


class BackendOut(Schema):
    id: str


class BackendList(Schema):
    backends: list[BackendOut]


class Resolution(Schema):
    endpointId: str
    modelId: str
    modelName: str
    version: str
    backendId: str | None
    contextLength: int
    promptTokens: int
    maxTokens: int | None
    clamped: bool
    resolvedAt: str
