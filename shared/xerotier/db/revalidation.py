"""Revalidation: any producer (HTTP, CLI, a queue message) moves a model back to validating."""

from __future__ import annotations

import uuid
from datetime import timedelta

from xerotier.db.lookups import get_owned
from xerotier.db.models import Model
from xerotier.db.transitions import apply_transition
from xerotier.domain.lifecycle import LifecycleEvent
from xerotier.errors import Conflict
from xerotier.queue import names, outbox
from xerotier.runtime import Runtime


def request_revalidation(runtime: Runtime, model_id: uuid.UUID, project_id: str | None = None) -> Model:
    """Move a ready or error model back to validating and enqueue its validation."""
    with runtime.unit_of_work() as session:
        # Row-locked: a concurrent delete or transition waits for this one, or went first (404/409).
        model = get_owned(session, project_id, model_id, for_update=True)
        moved = apply_transition(
            session,
            model_id,
            model.status,
            LifecycleEvent.REVALIDATE,
            reason="revalidation requested",
            deadline=timedelta(seconds=runtime.settings.validation_deadline_seconds),
            then=lambda s: outbox.enqueue(s, names.VALIDATE, model_id=str(model_id)),
        )
        if not moved:  # only without row locks (SQLite): another writer changed it since the read
            raise Conflict("The model changed while its revalidation was requested; retry")
        session.refresh(model)  # the state this request left, not what a fast worker did since
    return model
