"""Celery entry points of the validation service (thin: parse, call the use case)."""

from __future__ import annotations

import uuid

from xerotier.db.revalidation import request_revalidation
from xerotier.queue import names
from xerotier.queue.task import registry_task
from xerotier.runtime import get_runtime
from xerotier.validation import handlers


@registry_task(names.VALIDATE)
def validate(model_id: str) -> str:
    return handlers.validate_model(get_runtime(), uuid.UUID(model_id))


@registry_task(names.REVALIDATE)
def revalidate(model_id: str) -> str:
    """Queue-triggered revalidation: any producer may enqueue this by name."""
    model = request_revalidation(get_runtime(), uuid.UUID(model_id))
    return model.status
