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


@registry_task(names.LOADING_FOLLOW)
def follow_latest(model_project_id: str, model_name: str) -> int:
    """The latest version of a name moved: every endpoint following it rolls out to it."""
    return handlers.follow_latest(get_runtime(), model_project_id, model_name)


@registry_task(names.LOADING_REGISTER)
def register_backend(
    backend_id: str, inventory: dict[str, Any], source: str, options: dict[str, Any]
) -> bool:
    return handlers.register_backend_task(
        get_runtime(), backend_id, inventory, source, options, place_waiting=True
    )


@registry_task(names.LOADING_HEARTBEAT)
def heartbeat(backend_id: str, inventory: dict[str, Any], source: str, options: dict[str, Any]) -> bool:
    return handlers.register_backend_task(
        get_runtime(), backend_id, inventory, source, options, place_waiting=False
    )


@registry_task(names.LOADING_IDLE_SWEEP)
def idle_sweep() -> int:
    """Scale to zero (the housekeeper asks when ``XEROTIER_ENDPOINT_IDLE_SECONDS`` is set)."""
    seconds = get_runtime().settings.endpoint_idle_seconds
    return handlers.unload_idle(get_runtime(), seconds) if seconds > 0 else 0
