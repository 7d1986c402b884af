"""The agent's only link to the registry: tasks on the broker and reads from the blob store.

The agent holds no database URL: its registration, heartbeats and load acknowledgments are tasks
the loading service consumes (it writes the rows); a load message carries everything to load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from celery import Celery

from xerotier.queue import names
from xerotier.queue.celery_app import make_celery
from xerotier.settings import Settings
from xerotier.storage.blobs import BlobStore
from xerotier.storage.factory import make_blob_store


@dataclass
class RegistryLink:
    settings: Settings
    services: list[str] = field(default_factory=lambda: ["agent"])

    @cached_property
    def celery(self) -> Celery:
        return make_celery(self.settings, self.services)

    @cached_property
    def blobs(self) -> BlobStore:
        return make_blob_store(self.settings)

    def send(self, task_name: str, **kwargs: Any) -> None:
        """Publish ``task_name`` to its service's queue (retried on a broker hiccup)."""
        queue = names.queue_for(task_name)
        self.celery.send_task(
            task_name,
            kwargs=kwargs,
            queue=queue,
            routing_key=queue,
            retry=True,
            retry_policy={"max_retries": 5, "interval_start": 0.2, "interval_step": 0.5},
        )


_link: RegistryLink | None = None


def set_link(link: RegistryLink | None) -> None:
    global _link
    _link = link


def get_link() -> RegistryLink:
    if _link is None:
        raise RuntimeError("the agent's registry link is not set: run `xerotier agent`")
    return _link
