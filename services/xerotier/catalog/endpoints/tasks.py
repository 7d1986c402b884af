"""Celery entry point of the catalog service for endpoint events (``CATALOG_ENDPOINT_CHANGED``)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from xerotier.catalog.endpoints import counts as endpoint_counts
from xerotier.queue import names
from xerotier.queue.task import registry_task
from xerotier.runtime import get_runtime


@registry_task(names.CATALOG_ENDPOINT_CHANGED)
def endpoint_changed(model_project_id: str, model_name: str) -> dict[str, Any]:
    """Recount the model name's endpoints, drive ``active`` and demote (idempotent)."""
    return asdict(endpoint_counts.endpoint_changed(get_runtime(), model_project_id, model_name))
