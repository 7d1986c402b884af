"""Test setup for the sharing area: projects with keys, models in a given status (real database)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from xerotier.db.models import Model
from xerotier.db.projects import create_key, get_or_create_project
from xerotier.runtime import Runtime


def new_project(runtime: Runtime, slug: str) -> tuple[str, str]:
    """(project id, full API key) for a project created now."""
    with runtime.unit_of_work() as session:
        project = get_or_create_project(session, slug)
        _, key = create_key(session, project, "test")
        return project.id, key


def add_model(runtime: Runtime, project_id: str, name: str, status: str = "ready", **fields: Any) -> str:
    """A model version row as validation would leave it; returns its id."""
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "version": "1.0.0",
        "is_latest": True,
        "format": "safetensors",
        "size_bytes": 1000,
        "architecture": "llama",
        "parameter_count": 1_000_000,
        "context_length": 4096,
        "created_at": now,
        "updated_at": now,
        "status_changed_at": now,
    }
    values.update(fields)
    model = Model(id=uuid.uuid4(), project_id=project_id, name=name, status=status, **values)
    with runtime.unit_of_work() as session:
        session.add(model)
    return str(model.id)


def project_of(client: TestClient) -> str:
    """The caller's project id, read back from a model it creates."""
    return client.post("/v1/models", json={"name": f"probe-{uuid.uuid4().hex[:8]}"}).json()["projectId"]


def wait_for(condition: Callable[[], bool], timeout: float = 30) -> None:
    """Poll ``condition`` until it holds (a worker is processing events in another process)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise TimeoutError(f"condition not reached in {timeout}s")
