"""Response schemas of the upload service (the model and file schemas are shared)."""

from __future__ import annotations

from xerotier.api.schemas import Schema


class EventsAccepted(Schema):
    accepted: int
    taskId: str | None
