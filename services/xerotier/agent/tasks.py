"""Celery entry points of the GPU agent, consumed only from its own ``gpu.<backend>`` queue."""

from __future__ import annotations

import uuid
from typing import Any

from celery import shared_task

from xerotier.agent import handlers
from xerotier.agent.context import get_context
from xerotier.agent.link import get_link
from xerotier.queue import names


@shared_task(name=names.AGENT_LOAD, acks_late=True, reject_on_worker_lost=True)
def load(
    load_id: str,
    plan: dict[str, Any] | None = None,
    served_name: str | None = None,
    files: list[dict[str, Any]] | None = None,
    model_id: str | None = None,
) -> str:
    return handlers.load(get_link(), get_context(), uuid.UUID(load_id), plan, served_name, files, model_id)


@shared_task(name=names.AGENT_UNLOAD, acks_late=True, reject_on_worker_lost=True)
def unload(load_id: str) -> str:
    return handlers.unload(get_context(), uuid.UUID(load_id))
