"""Celery entry points of versioning (thin): a model reached ready or error → apply or drop its promotion."""

from __future__ import annotations

import uuid

from xerotier.catalog.versions import promotion
from xerotier.queue import names
from xerotier.queue.task import registry_task
from xerotier.runtime import get_runtime


@registry_task(names.CATALOG_STATUS_CHANGED)
def status_changed(model_id: str, status: str | None = None) -> str:
    """Idempotent: reads the model's status from the database (``status`` is informational)."""
    return promotion.on_status_changed(get_runtime(), uuid.UUID(model_id))
