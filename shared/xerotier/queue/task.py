"""The one way to declare a registry task: explicit name, late ack, requeue on worker loss, and
retries with exponential backoff and jitter on transient faults (reference/reliability.md §1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from celery import shared_task
from sqlalchemy.exc import OperationalError

from xerotier.errors import TransientError

TRANSIENT_FAULTS = (TransientError, ConnectionError, TimeoutError, OperationalError)


def registry_task(name: str) -> Callable[[Callable[..., Any]], Any]:
    """Declare a Celery task named ``name`` (a constant of ``xerotier.queue.names``)."""
    return shared_task(
        name=name,
        acks_late=True,
        reject_on_worker_lost=True,
        autoretry_for=TRANSIENT_FAULTS,
        retry_backoff=True,
        retry_backoff_max=300,
        retry_jitter=True,
        max_retries=5,
    )
