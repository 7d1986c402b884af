"""HTTP routes of the upload service for other ways in: bucket events and Hugging Face import."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from xerotier.api.deps import Caller, get_caller, get_rt
from xerotier.api.schemas import ModelOut, error_responses
from xerotier.api.serialize import model_json
from xerotier.db.models import Model
from xerotier.domain import storable
from xerotier.domain.semver import DEFAULT_VERSION
from xerotier.errors import InvalidInput
from xerotier.queue import names, outbox
from xerotier.upload import hub_import
from xerotier.upload.bucket_events import parse_notification
from xerotier.upload.schemas import EventsAccepted

router = APIRouter(tags=["upload"])
MAX_EVENT_BYTES = 4 << 20


@router.post(
    "/upload-events",
    status_code=202,
    response_model=EventsAccepted,
    responses=error_responses(400, 401),
)
async def upload_events(request: Request, caller: Caller = Depends(get_caller)) -> dict[str, Any]:
    """An S3/MinIO bucket notification for the caller's project, handed to the upload worker."""
    raw = await request.body()
    if len(raw) > MAX_EVENT_BYTES:
        raise InvalidInput(f"Bucket notification larger than {MAX_EVENT_BYTES} bytes")
    try:
        doc = storable.loads(raw)
    except storable.NotStorable as exc:  # it is stored (the outbox): only storable numbers
        raise InvalidInput(f"Invalid bucket notification: {exc}") from None
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidInput("Invalid bucket notification: body is not JSON") from None
    records = parse_notification(doc)
    runtime = get_rt(request)
    with runtime.unit_of_work() as session:
        message = outbox.enqueue(session, names.UPLOAD_INGEST_EVENT, event=doc, project_id=caller.project_id)
        task_id = message.task_id
    return {"accepted": len(records), "taskId": task_id}


class ImportBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    repo: str
    revision: str | None = None
    name: str | None = None
    version: str = DEFAULT_VERSION
    format: str | None = None
    workload_type: str | None = Field(None, alias="workloadType")
    version_notes: str | None = Field(None, alias="versionNotes")


def import_json(model: Model) -> dict[str, Any]:
    return {**model_json(model), "source": model.source}


@router.post(
    "/models/import",
    status_code=202,
    response_model=ModelOut,
    responses=error_responses(400, 401, 409),
)
def import_model(body: ImportBody, request: Request, caller: Caller = Depends(get_caller)) -> dict[str, Any]:
    """Import ``repo`` (``org/name[@revision]``) from the Hugging Face Hub as a new model version."""
    spec = hub_import.HubImport(
        body.repo, body.revision, body.name, body.version, body.format, body.workload_type, body.version_notes
    )
    return import_json(hub_import.start_import(get_rt(request), caller.project_id, spec))
