"""Keyset pages of a model's versions (``limit``, ``cursor``, ``nextCursor``) on PostgreSQL and
SQLite: highest precedence first, the same order as the unpaged list, stable under inserts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from conftest import mint_key
from xerotier.gateway.app import create_app
from xerotier.runtime import Runtime

pytestmark = pytest.mark.integration

VERSIONS = ["1.2.0", "1.10.0", "2.0.0-rc.1", "2.0.0-alpha", "2.0.0", "1.0.1-beta.11", "1.0.1-beta.2", "0.9.0"]
EXPECTED = [
    "2.0.0",
    "2.0.0-rc.1",
    "2.0.0-alpha",
    "1.10.0",
    "1.2.0",
    "1.0.1-beta.11",
    "1.0.1-beta.2",
    "1.0.0",
    "0.9.0",
]


@pytest.fixture(params=["postgresql", "sqlite"])
def api(request) -> Iterator[TestClient]:
    runtime: Runtime = request.getfixturevalue(
        "pg_runtime" if request.param == "postgresql" else "sqlite_runtime"
    )
    key = mint_key(runtime)
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        yield client


def _model_with_versions(api: TestClient) -> str:
    response = api.post("/v1/models", json={"name": "paged"})
    assert response.status_code == 201, response.text
    model_id = response.json()["id"]
    for version in VERSIONS:
        created = api.post(f"/v1/models/{model_id}/versions", json={"version": version})
        assert created.status_code == 201, created.text
    return model_id


def _all_pages(api: TestClient, model_id: str, limit: int) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = api.get(f"/v1/models/{model_id}/versions", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append([v["version"] for v in body["versions"]])
        cursor = body["nextCursor"]
        if cursor is None:
            return pages


def test_pages_follow_precedence_and_end_with_a_null_cursor(api):
    model_id = _model_with_versions(api)
    unpaged = api.get(f"/v1/models/{model_id}/versions").json()
    assert "nextCursor" not in unpaged  # existing clients see the body they always saw
    assert [v["version"] for v in unpaged["versions"]] == EXPECTED
    pages = _all_pages(api, model_id, 4)
    assert pages == [EXPECTED[0:4], EXPECTED[4:8], EXPECTED[8:]]
    assert _all_pages(api, model_id, 9) == [EXPECTED]
    first = api.get(f"/v1/models/{model_id}/versions", params={"limit": 2}).json()
    assert first["versions"][0] == unpaged["versions"][0]  # the same fields, paged or not


def test_a_version_inserted_between_pages_is_neither_repeated_nor_skipped_after_the_cursor(api):
    model_id = _model_with_versions(api)
    first = api.get(f"/v1/models/{model_id}/versions", params={"limit": 3}).json()
    assert [v["version"] for v in first["versions"]] == EXPECTED[:3]
    for version in ["3.0.0", "1.5.0"]:  # one above the cursor, one below it
        assert api.post(f"/v1/models/{model_id}/versions", json={"version": version}).status_code == 201
    rest = api.get(f"/v1/models/{model_id}/versions", params={"limit": 100, "cursor": first["nextCursor"]})
    assert [v["version"] for v in rest.json()["versions"]] == [EXPECTED[3], "1.5.0", *EXPECTED[4:]]


def test_bad_page_parameters_are_specific_4xx(api):
    model_id = _model_with_versions(api)
    bad_cursor = api.get(f"/v1/models/{model_id}/versions", params={"cursor": "!!not-a-cursor"})
    assert bad_cursor.status_code == 400, bad_cursor.text
    assert "Invalid cursor" in bad_cursor.json()["error"]["message"]
    for limit in (0, 501):
        response = api.get(f"/v1/models/{model_id}/versions", params={"limit": limit})
        assert response.status_code in (400, 422), response.text
        assert "error" in response.json()
    missing = api.get("/v1/models/00000000-0000-4000-8000-000000000000/versions", params={"limit": 5})
    assert missing.status_code == 404 and missing.json()["error"]["message"] == "Model not found"
