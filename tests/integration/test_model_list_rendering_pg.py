"""The model list rendered by PostgreSQL (the gateway's path) writes every version exactly as
``model_json`` does (the embedded path): same fields, same order, same JSON types, same cursors,
for several filter shapes and across pages."""

from __future__ import annotations

import asyncio
import functools
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from support.sharing import add_model, new_project
from xerotier.api.serialize import model_json
from xerotier.catalog import handlers, management, versions_handlers
from xerotier.catalog.listing import ListFilter
from xerotier.db.async_reads import AsyncReader, conninfo
from xerotier.errors import NotFound
from xerotier.runtime import Runtime

ROUND = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)  # no microseconds: isoformat omits them


@pytest.fixture
def project(pg_runtime: Runtime) -> str:
    """Versions whose fields exercise every kind of value: nulls, whole and fractional floats,
    JSON metadata (object, JSON null, absent), source objects, unicode, whole-second times."""
    project_id, _ = new_project(pg_runtime, "model-renderer")
    for i in range(12):
        add_model(
            pg_runtime,
            project_id,
            f"model-{i % 6}",
            status=("ready", "error", "validating")[i % 3],
            version=f"{i // 6 + 1}.0.0",
            is_latest=i >= 6,
            workload_type=(None, "chat", "code")[i % 3],
            architecture=("llama", "Qwen2")[i % 2],
            parameter_count=7_000_000_000 + i if i % 4 else None,
            default_temperature=(0.7, 1.0, 1e-05, None)[i % 4],
            default_top_p=(1234567890123456.0, -3.0, 0.95)[i % 3],
            pre_quantization_bits=(4.0, 4.5, None)[i % 3],
            chat_template='{{ "quote\\" and \\u00e9 and\nnewline" }}' if i == 1 else None,
            extra_metadata=(
                None,
                {"modelType": "llama", "architectures": ["LlamaForCausalLM"], "nested": {"a": [1, 2.5]}},
                {"other": True},
            )[i % 3],
            source={"kind": "hub", "repo": "org/é"} if i % 2 else None,
            version_notes="notes é ✓" if i == 2 else None,
            validation_error="bad header" if i % 3 == 1 else None,
            created_at=ROUND if i == 3 else datetime.now(UTC),
        )
    return project_id


def _python_pages(runtime: Runtime, project_id: str, flt: ListFilter) -> Pages:
    pages, cursor = [], None
    while True:
        page = management.list_models(runtime, project_id, flt, cursor, limit=2)
        pages.append(([json.dumps(model_json(row)) for row in page.rows], page.next_cursor))
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


Pages = list[tuple[list[str], str | None]]  # each version as JSON text, and the next cursor


async def _rendered_pages(reader: AsyncReader, project_id: str, flt: ListFilter) -> Pages:
    pages, cursor = [], None
    while True:
        models, token = await management.list_models_rendered(reader, project_id, flt, cursor, limit=2)
        # re-dumped: the same text iff the same fields, order, values and JSON types
        pages.append(([json.dumps(json.loads(m)) for m in models], token))
        if token is None:
            return pages
        cursor = token


@pytest.mark.parametrize(
    "flt",
    [
        ListFilter(),
        ListFilter(all_versions=True),
        ListFilter(all_versions=True, status="error", architecture="Qwen2"),
        ListFilter(all_versions=True, workload_type="chat", name_prefix="model-"),
        ListFilter(name_prefix="model-3"),
    ],
)
def test_rendered_pages_equal_python_pages(pg_runtime: Runtime, project: str, flt: ListFilter) -> None:
    expected = _python_pages(pg_runtime, project, flt)

    async def rendered() -> Pages:
        reader = AsyncReader(conninfo(pg_runtime.settings.resolved_database_url))
        try:
            return await _rendered_pages(reader, project, flt)
        finally:
            await reader.close()

    got = asyncio.run(rendered())
    assert sum(len(models) for models, _ in expected) > 0
    for (got_models, got_cursor), (expected_models, expected_cursor) in zip(got, expected, strict=True):
        for g, e in zip(got_models, expected_models, strict=True):
            assert g == e, (_differences(json.loads(g), json.loads(e)), g, e)
        assert got_cursor == expected_cursor


def _differences(got: dict, expected: dict) -> dict:
    keys = expected.keys() | got.keys()
    return {k: (got.get(k), expected.get(k)) for k in keys if got.get(k) != expected.get(k)}


def test_the_page_statement_is_planned_once(pg_runtime: Runtime, project: str) -> None:
    """Prepared on its fifth run, the page then runs its generic plan: left to ``auto``, PostgreSQL
    planned it afresh on every run (its custom plan looks cheaper), half the query's time."""
    flt = ListFilter(name_prefix="model-3")

    async def plans() -> tuple[int, int]:
        reader = AsyncReader(conninfo(pg_runtime.settings.resolved_database_url), size=1)  # one session
        try:
            for _ in range(12):
                models, _ = await management.list_models_rendered(reader, project, flt, None, limit=5)
                assert len(models) == 1
            row = await reader.fetch_one(
                "SELECT sum(generic_plans), sum(custom_plans) FROM pg_prepared_statements", None
            )
            assert row is not None
            return int(row[0]), int(row[1])
        finally:
            await reader.close()

    generic, custom = asyncio.run(plans())
    assert (generic, custom) == (7, 0)  # runs 6 to 12 executed the prepared statement, never re-planned


def test_a_version_read_alone_is_rendered_as_model_json(pg_runtime: Runtime, project: str) -> None:
    """``GET /v1/models/{id}`` on the event loop: every version of the fixture, same text; a version
    of another project, or none, is not found."""
    rows = management.list_models(pg_runtime, project, ListFilter(all_versions=True), None, limit=50).rows
    other_project, _ = new_project(pg_runtime, "model-renderer-other")

    async def read_all() -> tuple[list[str], list[str]]:
        reader = AsyncReader(conninfo(pg_runtime.settings.resolved_database_url))
        try:
            texts = [await handlers.get_model_rendered(reader, project, row.id) for row in rows]
            read = functools.partial(handlers.get_model_rendered, reader)
            return texts, await _not_found(read, (other_project, rows[0].id), (project, uuid.uuid4()))
        finally:
            await reader.close()

    texts, errors = asyncio.run(read_all())
    assert len(texts) == 12
    for row, text in zip(rows, texts, strict=True):
        assert json.dumps(json.loads(text)) == json.dumps(
            model_json(handlers.get_model(pg_runtime, project, row.id))
        )
    assert errors == ["Model not found", "Model not found"]


def test_the_versions_of_a_model_are_rendered_in_precedence_order(pg_runtime: Runtime, project: str) -> None:
    """``GET /v1/models/{id}/versions`` on the event loop: the same versions, text and order as the
    thread path, from any version of the name; another project's model is not found."""
    for version in ("1.10.0", "1.2.0", "2.0.0-rc.1", "2.0.0-alpha"):  # precedence differs from text order
        add_model(pg_runtime, project, "model-0", version=version, is_latest=False, default_top_p=1.0)
    anchors = [
        row.id for row in management.list_models(pg_runtime, project, ListFilter(), None, limit=50).rows
    ]
    other_project, _ = new_project(pg_runtime, "model-renderer-versions")

    async def read_all() -> tuple[list[list[str]], list[str]]:
        reader = AsyncReader(conninfo(pg_runtime.settings.resolved_database_url))
        try:
            pages = [await versions_handlers.list_versions_rendered(reader, project, a) for a in anchors]
            read = functools.partial(versions_handlers.list_versions_rendered, reader)
            return pages, await _not_found(read, (other_project, anchors[0]), (project, uuid.uuid4()))
        finally:
            await reader.close()

    pages, errors = asyncio.run(read_all())
    for anchor, page in zip(anchors, pages, strict=True):
        expected = [
            json.dumps(model_json(m)) for m in versions_handlers.list_versions(pg_runtime, project, anchor)
        ]
        assert [json.dumps(json.loads(text)) for text in page] == expected
    model_0 = next(page for page in pages if json.loads(page[0])["name"] == "model-0")
    assert [json.loads(text)["version"] for text in model_0] == [
        "2.0.0", "2.0.0-rc.1", "2.0.0-alpha", "1.10.0", "1.2.0", "1.0.0"
    ]  # fmt: skip
    assert errors == ["Model not found", "Model not found"]


async def _not_found(
    read: Callable[[str, uuid.UUID], Awaitable[Any]], *targets: tuple[str, uuid.UUID]
) -> list[str]:
    """The message of each ``NotFound`` that reading (project id, model id) raised."""
    messages = []
    for project_id, model_id in targets:
        try:
            await read(project_id, model_id)
        except NotFound as error:
            messages.append(error.message)
    return messages
