"""``/openapi.json`` documents what the API really answers: a typed success response for every
``/v1`` operation, the error envelope under the statuses each route answers, and no 422 (request
validation failures are 400s in the envelope)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from xerotier.gateway.app import create_app

pytestmark = pytest.mark.integration


@pytest.fixture
def document(sqlite_runtime):
    with TestClient(create_app(sqlite_runtime)) as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def _operations(document, prefix: str):
    for path, operations in document["paths"].items():
        if path.startswith(prefix):
            for method, operation in operations.items():
                yield f"{method.upper()} {path}", operation


def _success(operation):
    return next((code, r) for code, r in operation["responses"].items() if code.startswith("2"))


def test_every_v1_operation_has_a_typed_success_response(document):
    untyped = []
    for label, operation in _operations(document, "/v1/"):
        code, response = _success(operation)
        content = response.get("content", {})
        if "application/octet-stream" in content:  # a file download: bytes, documented as such
            assert content["application/octet-stream"]["schema"] == {"type": "string", "format": "binary"}
            continue
        schema = content.get("application/json", {}).get("schema", {})
        if "$ref" not in schema:
            untyped.append(f"{label} {code}: {schema}")
    assert untyped == []
    assert len(list(_operations(document, "/v1/"))) >= 35


def test_errors_are_the_envelope_and_no_422_is_documented(document):
    envelope = "#/components/schemas/ErrorEnvelope"
    for label, operation in _operations(document, "/"):
        assert "422" not in operation["responses"], label
        for code, response in operation["responses"].items():
            if code.startswith(("4", "5")) and "content" in response:
                assert response["content"]["application/json"]["schema"]["$ref"] == envelope, label
    assert "HTTPValidationError" not in document["components"]["schemas"]
    upload = document["paths"]["/v1/models/{model_id}/files/{file_path}"]["put"]["responses"]
    assert {"400", "401", "404", "409", "413"} <= set(upload)
    assert "401" in document["paths"]["/v1/models"]["get"]["responses"]


def test_model_schema_names_the_seed_fields(document):
    fields = document["components"]["schemas"]["ModelOut"]["properties"]
    for name in ("version", "parentVersionId", "isLatest", "versionNotes", "sizeBytes", "contextLength",
                 "validationError", "defaultTemperature", "numExpertsPerTok"):  # fmt: skip
        assert name in fields, name


def test_project_scoped_operations_declare_their_project(document):
    for label, operation in _operations(document, "/{project_id}/v1/"):
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
        assert "project_id" in names, label


def test_a_bad_parameter_is_a_400_in_the_envelope_as_documented(sqlite_runtime):
    from conftest import mint_key

    key = mint_key(sqlite_runtime)
    with TestClient(create_app(sqlite_runtime)) as client:
        response = client.get("/v1/models?limit=0", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"message", "type", "code"}
