"""Bulk revalidation: every version whose metadata came from an older extractor goes back through
the validation queue (``xerotier revalidate --extractor-older-than N``)."""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select

from xerotier.db.models import Model
from xerotier.db.revalidation import request_revalidation
from xerotier.domain.lifecycle import ModelStatus
from xerotier.errors import Conflict, NotFound
from xerotier.runtime import Runtime

SETTLED = (ModelStatus.READY.value, ModelStatus.ERROR.value)


def stale_versions(runtime: Runtime, older_than: int) -> list[uuid.UUID]:
    """Ready or error versions extracted by a version below ``older_than`` (or never extracted)."""
    with runtime.session_factory() as session:
        query = (
            select(Model.id)
            .where(Model.status.in_(SETTLED))
            .where(or_(Model.extractor_version.is_(None), Model.extractor_version < older_than))
            .order_by(Model.created_at)
        )
        return list(session.scalars(query))


def revalidate_stale(runtime: Runtime, older_than: int) -> list[uuid.UUID]:
    """Move each stale version to validating with its validation enqueued (one transaction each).

    A version another actor moved in the meantime is skipped, not an error.
    """
    moved: list[uuid.UUID] = []
    for model_id in stale_versions(runtime, older_than):
        try:
            request_revalidation(runtime, model_id)
        except (Conflict, NotFound):
            continue
        moved.append(model_id)
    return moved
