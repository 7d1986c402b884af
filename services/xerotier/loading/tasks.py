"""Celery entry points of the loading service (thin: parse, call the use case)."""

from __future__ import annotations

import uuid
from typing import Any

from xerotier.loading import handlers
from xerotier.queue import names
from xerotier.queue.task import registry_task
from xerotier.runtime import get_runtime


@registry_task(names.LOADING_PLACE)
def place(endpoint_id: str) -> str:
    runtime = get_runtime()
    handlers.replace_dead_backend_loads(runtime)
    return handlers.place(runtime, uuid.UUID(endpoint_id))


@registry_task(names.LOADING_ACK)
def ack(load_id: str, ack: dict[str, Any]) -> str:
    return handlers.record_ack(get_runtime(), uuid.UUID(load_id), ack)


@registry_task(names.LOADING_UNLOAD)
def unload(endpoint_id: str) -> int:
    return handlers.unload(get_runtime(), uuid.UUID(endpoint_id))


@registry_task(names.LOADING_SWEEP)
def sweep() -> int:
    """Re-place the loads of backends that missed their heartbeats (the housekeeper asks)."""
    return handlers.replace_dead_backend_loads(get_runtime())
