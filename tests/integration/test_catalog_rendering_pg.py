"""The catalog page rendered by PostgreSQL (the gateway's path) equals the page built in Python (the
embedded path) field by field, on the same rows, for several filter shapes and across pages."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from support.sharing import add_model, new_project
from xerotier.catalog import catalog_handlers
from xerotier.catalog.catalog_query import CatalogFilter, Cursor
from xerotier.db.async_reads import AsyncReader, conninfo
from xerotier.db.models import Model
from xerotier.runtime import Runtime

ROUND = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)  # no microseconds: isoformat omits them


@pytest.fixture
def shared(pg_runtime: Runtime) -> None:
    """Nine shared versions whose fields exercise every kind of value (nulls, floats, JSON, times)."""
    project, _ = new_project(pg_runtime, "renderer")
    for i in range(9):
        fields = {
            "workload_type": (None, "chat", "code")[i % 3],
            "architecture": ("llama", "Qwen2")[i % 2],
            "parameter_count": 7_000_000_000 + i if i % 4 else None,
            "default_temperature": (0.7, 1e-05, None)[i % 3],
            "pre_quantization_bits": 4.5 if i % 2 else None,
            "chat_template": '{{ "quote\\" and \\u00e9 and\nnewline" }}' if i == 1 else None,
            "extra_metadata": (
                None,
                {"modelType": "llama", "architectures": ["LlamaForCausalLM"], "nested": {"a": [1, 2.5]}},
                {"other": True},
            )[i % 3],
            "version_notes": "notes é ✓" if i == 2 else None,
            "created_at": ROUND if i == 3 else datetime.now(UTC),
        }
        model_id = uuid.UUID(add_model(pg_runtime, project, f"model-{i}", **fields))
        with pg_runtime.unit_of_work() as session:
            session.execute(
                update(Model)
                .where(Model.id == model_id)
                .values(
                    is_shared=True, catalog_role="deployable", shared_at=ROUND if i < 3 else datetime.now(UTC)
                )
            )


def _python_pages(runtime: Runtime, f: CatalogFilter, limit: int) -> list[tuple[list[dict], str | None]]:
    pages, cursor = [], None
    while True:
        page = catalog_handlers.list_catalog(
            runtime, f, limit=limit, cursor=Cursor.decode(cursor) if cursor else None
        )
        pages.append((page.models, page.next_cursor))
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


async def _rendered_pages(
    reader: AsyncReader, f: CatalogFilter, limit: int
) -> list[tuple[list[dict], str | None]]:
    pages, cursor = [], None
    while True:
        after = Cursor.decode(cursor) if cursor else None
        entries, token = await catalog_handlers.list_catalog_rendered(reader, f, limit=limit, cursor=after)
        pages.append(([json.loads(e) for e in entries], token))
        if token is None:
            return pages
        cursor = token


@pytest.mark.parametrize(
    "f",
    [
        CatalogFilter(),
        CatalogFilter(workload_type="chat"),
        CatalogFilter(architecture="Qwen2", min_parameters=7_000_000_002),
        CatalogFilter(search="MODEL-", is_multimodal=False, catalog_role="deployable"),
    ],
)
def test_rendered_pages_equal_python_pages(pg_runtime: Runtime, shared: None, f: CatalogFilter) -> None:
    expected = _python_pages(pg_runtime, f, limit=2)

    async def rendered() -> list[tuple[list[dict], str | None]]:
        reader = AsyncReader(conninfo(pg_runtime.settings.resolved_database_url))
        try:
            return await _rendered_pages(reader, f, limit=2)
        finally:
            await reader.close()

    got = asyncio.run(rendered())
    assert sum(len(models) for models, _ in expected) > 0
    for (g_models, _), (e_models, _) in zip(got, expected, strict=False):
        for g, e in zip(g_models, e_models, strict=False):
            assert {k: v for k, v in g.items() if e.get(k) != v} == {}, {
                k: e.get(k) for k in g if e.get(k) != g[k]
            }
    assert got == expected  # same entries, same key order is not required, same cursors
    for models, _ in got:
        for model in models:
            assert list(model)[:3] == ["id", "projectId", "name"]
