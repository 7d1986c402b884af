"""Response schemas shared by several services: a model version, its files, its lifecycle events, the
error envelope. Each is the one serializer of its resource (``serialize.model_json`` dumps a
``ModelOut``) and documents it in ``/openapi.json``. Field names are the seed's camelCase.

Every schema allows extra fields (``extra="allow"``): a field added to a response is never dropped
by a schema that does not list it yet.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Schema(BaseModel):
    """Base of every response schema."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class ModelOut(Schema):
    """One version of a model, as every route that returns a model shows it."""

    id: str
    projectId: str
    name: str
    version: str
    parentVersionId: str | None
    isLatest: bool
    versionNotes: str | None
    format: str | None
    sizeBytes: int | None
    status: str = Field(description="uploading | validating | ready | active | error")
    validationError: str | None
    architecture: str | None
    parameterCount: int | None
    contextLength: int | None
    license: str | None
    isMultimodal: bool | None
    defaultTemperature: float | None
    defaultTopP: float | None
    chatTemplate: str | None
    workloadType: str | None
    isPreQuantized: bool | None
    preQuantizationMethod: str | None
    preQuantizationBits: float | None
    numExperts: int | None
    numExpertsPerTok: int | None
    modelType: str | None
    extractorVersion: int | None
    architectures: list[str] | None
    extraMetadata: dict[str, Any] = Field(description="everything validation extracted beyond the seed")
    source: dict[str, Any] | None = Field(description="where the files came from (hub repo, bucket …)")
    isShared: bool
    catalogRole: str | None
    createdAt: str | None
    updatedAt: str | None
    statusChangedAt: str | None


class ModelList(Schema):
    models: list[ModelOut]
    nextCursor: str | None = None


class VersionList(Schema):
    versions: list[ModelOut]


class FileOut(Schema):
    path: str
    sizeBytes: int
    sha256: str
    createdAt: str | None


class FileList(Schema):
    files: list[FileOut]


class EventOut(Schema):
    event: str
    from_: str | None = Field(alias="from")
    to: str
    reason: str | None
    createdAt: str | None


class EventList(Schema):
    events: list[EventOut]


class ErrorBody(BaseModel):
    message: str
    type: str
    code: str | None = None


class ErrorEnvelope(BaseModel):
    """Every error, whatever its status."""

    error: ErrorBody


_ERROR_MEANING = {
    400: "Invalid request (a parameter or the body)",
    401: "Authentication required (no key, or an unknown, revoked or tampered key)",
    403: "Not allowed (a catalog role or tier forbids it)",
    404: "Not found (also another project's resource)",
    409: "Conflict with the resource's current state",
    413: "Payload too large",
    416: "Range not satisfiable (it starts past the end of the file)",
    502: "The model's engine failed or did not answer",
    503: "A service the registry depends on is unavailable, or the model is still loading; retry",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route: the error envelope under each status it really answers."""
    return {status: {"model": ErrorEnvelope, "description": _ERROR_MEANING[status]} for status in statuses}
