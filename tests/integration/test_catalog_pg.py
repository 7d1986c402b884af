"""The public catalog on PostgreSQL: every filter, keyset pages, and what an entry shows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from support.sharing import add_model, new_project
from xerotier.catalog.sharing.handlers import share_model
from xerotier.db.models import Model

pytestmark = pytest.mark.integration

SPECS = [
    # name, workload, arch, multimodal, params, context, prequantized
    ("Llama-3-8B-Chat", None, "llama", False, 8_000_000_000, 8192, False),
    ("llama-3-70b-awq", "chat", "llama", False, 70_000_000_000, 8192, True),
    ("qwen2-vl-7b", "multilingual", "qwen2_vl", True, 7_000_000_000, 32768, False),
    ("deepseek-coder-6.7b", "code", "llama", False, 6_700_000_000, 16384, False),
    ("bge-large", "embedding", "bert", False, 335_000_000, 512, False),
    ("qwq-32b", "reasoning", "qwen2", False, 32_000_000_000, 131072, True),
]


@pytest.fixture
def catalog(pg_api, pg_runtime):
    """Six shared models across two projects plus one private one; name → id."""
    ids = {}
    for i, (name, workload, arch, mm, params, ctx, pq) in enumerate(SPECS):
        project, _ = new_project(pg_runtime, f"owner-{i % 2}")
        ids[name] = add_model(
            pg_runtime,
            project,
            name,
            workload_type=workload,
            architecture=arch,
            is_multimodal=mm,
            parameter_count=params,
            context_length=ctx,
            is_pre_quantized=pq,
        )
        share_model(pg_runtime, project, uuid.UUID(ids[name]))
    private_project, _ = new_project(pg_runtime, "private")
    add_model(pg_runtime, private_project, "llama-private")
    return ids


def names_for(client, **params) -> set[str]:
    response = client.get("/v1/catalog/models", params=params)
    assert response.status_code == 200, response.text
    return {m["name"] for m in response.json()["models"]}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {s[0] for s in SPECS}),
        ({"workloadType": "chat"}, {"Llama-3-8B-Chat", "llama-3-70b-awq"}),  # no type = chat
        ({"workloadType": "code"}, {"deepseek-coder-6.7b"}),
        ({"workloadType": "reasoning"}, {"qwq-32b"}),
        ({"workloadType": "embedding"}, {"bge-large"}),
        ({"workloadType": "multilingual"}, {"qwen2-vl-7b"}),
        ({"architecture": "LLAMA"}, {"Llama-3-8B-Chat", "llama-3-70b-awq", "deepseek-coder-6.7b"}),
        ({"isMultimodal": "true"}, {"qwen2-vl-7b"}),
        ({"isPreQuantized": "true"}, {"llama-3-70b-awq", "qwq-32b"}),
        (
            {"minParameters": 7_000_000_000, "maxParameters": 10_000_000_000},
            {"Llama-3-8B-Chat", "qwen2-vl-7b"},
        ),
        ({"minContextLength": 32768}, {"qwen2-vl-7b", "qwq-32b"}),
        ({"maxContextLength": 8192}, {"Llama-3-8B-Chat", "llama-3-70b-awq", "bge-large"}),
        ({"q": "llama-3"}, {"Llama-3-8B-Chat", "llama-3-70b-awq"}),
        ({"q": "%"}, set()),  # wildcards are literal
        (
            {"q": "llama", "isPreQuantized": "false", "architecture": "llama"},
            {"Llama-3-8B-Chat"},
        ),
    ],
)
def test_filters(pg_api, catalog, params, expected):
    assert names_for(pg_api, **params) == expected


def test_bad_filters_are_400_in_the_envelope(pg_api, catalog):
    for params, message in [
        ({"workloadType": "vision"}, "Invalid workloadType 'vision'"),
        ({"minParameters": 10, "maxParameters": 1}, "The parameter range is empty"),
        ({"limit": 0}, "Invalid request: query.limit"),
        ({"isMultimodal": "maybe"}, "Invalid request: query.isMultimodal"),
        ({"cursor": "garbage"}, "Invalid cursor"),
        ({"catalogRole": "owner"}, "Unknown catalog role 'owner'"),
    ]:
        response = pg_api.get("/v1/catalog/models", params=params)
        assert response.status_code == 400, (params, response.text)
        assert response.json()["error"]["message"].startswith(message)
        assert response.json()["error"]["type"] == "invalid_request_error"


def test_keyset_pages_cover_every_model_once_even_with_equal_share_times(pg_api, pg_runtime, catalog):
    project, _ = new_project(pg_runtime, "bulk")
    same = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(23):
        share_model(pg_runtime, project, uuid.UUID(add_model(pg_runtime, project, f"bulk-{i:02d}")))
    with pg_runtime.unit_of_work() as session:
        session.execute(update(Model).where(Model.project_id == project).values(shared_at=same))
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 5, **({"cursor": cursor} if cursor else {})}
        page = pg_api.get("/v1/catalog/models", params=params).json()
        seen += [m["id"] for m in page["models"]]
        pages += 1
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 23 + len(SPECS)
    assert pages == 6
    shared_at = [
        m["sharedAt"] for m in pg_api.get("/v1/catalog/models", params={"limit": 200}).json()["models"]
    ]
    assert shared_at == sorted(shared_at, reverse=True)


def test_an_entry_carries_metadata_count_featured_and_role(pg_api, catalog):
    entry = pg_api.get(f"/v1/catalog/models/{catalog['qwq-32b']}").json()
    assert entry["parameterCount"] == 32_000_000_000 and entry["workloadType"] == "reasoning"
    assert (entry["deploymentCount"], entry["featured"], entry["catalogRole"]) == (0, False, "deployable")
    assert "validationError" not in entry
    assert pg_api.get(f"/v1/catalog/models/{uuid.uuid4()}").json()["error"]["message"] == (
        "Model not found in the catalog"
    )


def test_any_authenticated_key_reads_the_catalog_and_no_key_does_not(pg_api, pg_runtime, catalog):
    _, key = new_project(pg_runtime, "newcomer")
    response = pg_api.get("/v1/catalog/models", headers={"Authorization": f"Bearer {key}"})
    assert {m["name"] for m in response.json()["models"]} == {s[0] for s in SPECS}
    anonymous = pg_api.get("/v1/catalog/models", headers={"Authorization": ""})
    assert anonymous.status_code == 401


def test_an_entry_is_the_owners_manifest_minus_private_fields(pg_api, pg_runtime):
    project, key = new_project(pg_runtime, "manifest")
    model_id = add_model(pg_runtime, project, "manifested", extra_metadata={"modelType": "llama"})
    owned = pg_api.post(f"/v1/models/{model_id}/share", headers={"Authorization": f"Bearer {key}"}).json()
    entry = pg_api.get(f"/v1/catalog/models/{model_id}").json()
    private = {"validationError", "extractorVersion", "source"}  # source may name a bucket
    assert set(entry) == set(owned) - private
    assert {k: v for k, v in owned.items() if k not in private} == entry
    assert entry["modelType"] == "llama"
