"""Celery worker hooks: each pool process builds its own connections after fork."""

from __future__ import annotations

from celery.signals import worker_process_init

from xerotier.runtime import Runtime, forget_runtime, set_runtime
from xerotier.settings import get_settings

_services: list[str] = []


def install(services: list[str]) -> None:
    _services[:] = services
    worker_process_init.connect(_fresh_runtime, weak=False)


def _fresh_runtime(**_kwargs: object) -> None:
    forget_runtime()  # the parent's pooled connections must not be shared across fork
    set_runtime(Runtime(get_settings(), list(_services)))
