"""Creating a version on the event loop (the gateway's path on PostgreSQL) writes the same rows and
answers the same JSON as the thread-pool path (the embedded path), and fails the same ways."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from sqlalchemy import select

from support.sharing import add_model, new_project
from xerotier.api.serialize import model_json
from xerotier.catalog import versions_handlers
from xerotier.catalog.versions_handlers import NewVersion
from xerotier.db.async_reads import AsyncReader, conninfo
from xerotier.db.models import LifecycleEventRow
from xerotier.errors import Conflict, InvalidInput, NotFound
from xerotier.runtime import Runtime

#: Differ between any two creations: identity and clock.
_OWN = ("id", "name", "parentVersionId", "createdAt", "updatedAt", "statusChangedAt")


def _create_async(runtime: Runtime, project_id: str, model_id: uuid.UUID, *specs: NewVersion) -> list[Any]:
    """Each creation in turn on one reader: its JSON text, or the error it raised."""

    async def create() -> list[Any]:
        reader, outcomes = AsyncReader(conninfo(runtime.settings.resolved_database_url), size=1), []
        try:
            for spec in specs:
                try:
                    outcomes.append(
                        await versions_handlers.create_version_rendered(
                            runtime, reader, project_id, model_id, spec
                        )
                    )
                except (Conflict, InvalidInput, NotFound) as error:
                    outcomes.append(error)
            return outcomes
        finally:
            await reader.close()

    return asyncio.run(create())


def _parent(runtime: Runtime, project_id: str, name: str) -> uuid.UUID:
    return uuid.UUID(
        add_model(
            runtime,
            project_id,
            name,
            workload_type="chat",
            default_temperature=1.0,
            extra_metadata={"modelType": "llama"},
        )
    )


def _event(runtime: Runtime, model_id: str) -> tuple[Any, ...]:
    with runtime.session_factory() as session:
        row = session.execute(
            select(LifecycleEventRow.event, LifecycleEventRow.from_status, LifecycleEventRow.to_status,
                   LifecycleEventRow.reason).where(LifecycleEventRow.model_id == uuid.UUID(model_id))
        ).one()  # fmt: skip
    return tuple(row)


def _same_everywhere(model: dict[str, Any]) -> str:
    """The fields that do not differ between two creations, as JSON text (types included)."""
    return json.dumps({k: v for k, v in model.items() if k not in _OWN})


def test_both_paths_create_the_same_version(pg_runtime: Runtime) -> None:
    project_id, _ = new_project(pg_runtime, "create-parity")
    on_thread, on_loop = (
        _parent(pg_runtime, project_id, "on-thread"),
        _parent(pg_runtime, project_id, "on-loop"),
    )
    spec = NewVersion("2.0.0-rc.1+build.5", "notes é ✓")

    threaded = model_json(versions_handlers.create_version(pg_runtime, project_id, on_thread, spec))
    threaded = json.loads(json.dumps(threaded))
    [rendered_text] = _create_async(pg_runtime, project_id, on_loop, spec)
    rendered = json.loads(rendered_text)

    assert list(rendered) == list(threaded)  # same fields, same order
    assert _same_everywhere(rendered) == _same_everywhere(threaded)
    assert (rendered["parentVersionId"], threaded["parentVersionId"]) == (str(on_loop), str(on_thread))
    assert (rendered["name"], rendered["status"], rendered["isLatest"]) == ("on-loop", "uploading", False)
    assert rendered["workloadType"] == "chat"  # inherited from the parent
    assert _event(pg_runtime, rendered["id"]) == _event(pg_runtime, threaded["id"])
    assert _event(pg_runtime, rendered["id"])[3] == "version 2.0.0-rc.1+build.5 created from 1.0.0"


def test_the_event_loop_path_fails_like_the_thread_path(pg_runtime: Runtime) -> None:
    project_id, _ = new_project(pg_runtime, "create-errors")
    other_project, _ = new_project(pg_runtime, "create-errors-other")
    parent = _parent(pg_runtime, project_id, "errors")
    specs = ("2.0.0", "2.0.0", "2.0.0+other", "v3", "3.0.0")
    first, duplicate, same_precedence, invalid, after = _create_async(
        pg_runtime, project_id, parent, *(NewVersion(v) for v in specs)
    )  # one session throughout: each failure was rolled back and the session reused
    assert json.loads(first)["version"] == "2.0.0"
    for error in (duplicate, same_precedence):  # the unique precedence index answers
        assert isinstance(error, Conflict) and "Model 'errors' version 2.0.0" in error.message
    assert isinstance(invalid, InvalidInput)
    assert json.loads(after)["version"] == "3.0.0"
    for project, model in ((project_id, uuid.uuid4()), (other_project, parent)):  # absent; another project's
        [missing] = _create_async(pg_runtime, project, model, NewVersion("4.0.0"))
        assert isinstance(missing, NotFound) and missing.message == "Model not found"
