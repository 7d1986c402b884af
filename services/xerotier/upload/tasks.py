"""Celery entry points of the upload service (thin: parse, call the use case)."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Any

from xerotier.queue import names
from xerotier.queue.task import registry_task
from xerotier.runtime import get_runtime
from xerotier.upload import hub_import, ingest


@registry_task(names.UPLOAD_INGEST_EVENT)
def ingest_event(event: dict[str, Any], project_id: str | None = None) -> list[dict[str, Any]]:
    """A bucket notification (S3/MinIO JSON); any producer may enqueue it by name."""
    return [asdict(o) for o in ingest.ingest_notification(get_runtime(), event, project_id)]


@registry_task(names.UPLOAD_IMPORT_HUB)
def import_hub(model_id: str) -> str:
    """Snapshot the Hugging Face repository recorded on ``model_id`` and complete the upload."""
    return hub_import.run_import(get_runtime(), uuid.UUID(model_id))
