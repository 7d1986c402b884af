"""Rows the loading tests start from, written straight into the real database and blob store:
a ready model (its config.json as a blob, its tensor headers as validation stores them) and
endpoints (their HTTP routes belong to another service)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from xerotier.db.blob_refs import add_ref
from xerotier.db.models import Endpoint, Model, ModelFile
from xerotier.db.projects import get_or_create_project
from xerotier.queue import names, outbox
from xerotier.runtime import Runtime


def ready_model(runtime: Runtime, name: str, config: dict[str, Any], header: dict[str, Any]) -> uuid.UUID:
    writer = runtime.blobs.writer()
    writer.write(json.dumps(config).encode())
    stored = writer.commit()
    with runtime.unit_of_work() as session:
        project = get_or_create_project(session, "test")
        model = Model(
            id=uuid.uuid4(),
            project_id=project.id,
            name=name,
            version="1.0.0",
            is_latest=True,
            status="ready",
            format="safetensors",
            context_length=config.get("max_position_embeddings"),
        )
        session.add(model)
        session.flush()
        add_ref(session, stored.sha256, stored.size)
        session.add(
            ModelFile(model_id=model.id, path="config.json", size_bytes=stored.size, sha256=stored.sha256)
        )
        # the weights' bytes are not needed to plan: the file row points at the config blob
        session.add(
            ModelFile(
                model_id=model.id,
                path="model.safetensors",
                size_bytes=stored.size,
                sha256=stored.sha256,
                header=header,
            )
        )
        return model.id


def endpoint(runtime: Runtime, model_name: str, place: bool = False) -> uuid.UUID:
    """An endpoint row for ``model_name``; with ``place`` also the ``loading.place`` task."""
    with runtime.unit_of_work() as session:
        project = get_or_create_project(session, "test")
        row = Endpoint(
            id=uuid.uuid4(),
            project_id=project.id,
            model_project_id=project.id,
            model_name=model_name,
            tier="standard",
            status="pending",
            created_at=datetime.now(UTC),
        )
        session.add(row)
        if place:
            outbox.enqueue(session, names.LOADING_PLACE, endpoint_id=str(row.id))
        return row.id
