"""Poisoned numbers on PostgreSQL and SQLite: validation errors, 400s, and never a 500 on a read.

Each hostile value goes through every path that stores metadata: a model's files (validation, the
code the worker runs), a bucket notification (stored in the outbox) and a load-plan body; then
values stored before these checks existed (a non-finite float in a column and in the metadata
object, shared in the catalog) must still list, get and appear in the catalog.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from support.sharing import add_model, new_project
from xerotier.gateway.app import create_app
from xerotier.runtime import Runtime
from xerotier.validation.handlers import validate_model

pytestmark = pytest.mark.integration
CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 8,
    "num_attention_heads": 2,
    "num_hidden_layers": 1,
    "max_position_embeddings": 4096,
}
HOSTILE = [
    ("generation_config.json", b'{"temperature": 1e400}', "generation_config.json: field temperature"),
    (
        "generation_config.json",
        b'{"temperature": NaN, "top_p": 0.9}',
        "generation_config.json: field temperature",
    ),
    (
        "config.json",
        json.dumps({**CONFIG, "rope_scaling": {"type": "linear", "factor": 1}}).encode()[:-2]
        + b', "factor": Infinity}}',
        "config.json: field rope_scaling.factor",
    ),
    (
        "config.json",
        json.dumps({**CONFIG, "max_position_embeddings": 2**31}).encode(),
        "field context_length",
    ),
    (
        "config.json",
        json.dumps({**CONFIG, "num_local_experts": 2**31, "num_experts_per_tok": 2}).encode(),
        "field num_experts",
    ),
    ("config.json", json.dumps({**CONFIG, "max_position_embeddings": 2**64}).encode(), "beyond 64 bits"),
    (
        "config.json",
        json.dumps(CONFIG).encode()[:-1] + b', "vocab_size": ' + b"7" * 4400 + b"}",
        "an integer of 4400 digits",
    ),
]


def weights() -> bytes:
    raw = json.dumps({"w": {"dtype": "F16", "shape": [2, 2], "data_offsets": [0, 8]}}).encode()
    return struct.pack("<Q", len(raw)) + raw + b"\0" * 8


@pytest.fixture(params=["postgresql", "sqlite"])
def runtime(request: pytest.FixtureRequest) -> Runtime:
    return request.getfixturevalue("pg_runtime" if request.param == "postgresql" else "sqlite_runtime")


@pytest.fixture
def api(runtime: Runtime) -> Iterator[tuple[TestClient, str]]:
    project_id, key = new_project(runtime, "poison")
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        yield client, project_id


def upload(client: TestClient, name: str, files: dict[str, bytes]) -> str:
    created = client.post("/v1/models", json={"name": name})
    assert created.status_code == 201, created.text
    model_id = created.json()["id"]
    for path, raw in files.items():
        assert client.put(f"/v1/models/{model_id}/files/{path}", content=raw).status_code == 201
    assert client.post(f"/v1/models/{model_id}/complete").status_code == 202
    return model_id


def test_hostile_files_end_in_error_naming_file_and_field(api, runtime):
    client, _ = api
    for index, (name, raw, expected) in enumerate(HOSTILE):
        files = {"model.safetensors": weights(), "config.json": json.dumps(CONFIG).encode(), name: raw}
        model_id = upload(client, f"poison-{index}", files)
        import uuid

        assert validate_model(runtime, uuid.UUID(model_id)) == "error"
        got = client.get(f"/v1/models/{model_id}")
        assert got.status_code == 200, got.text
        assert got.json()["status"] == "error"
        assert expected in got.json()["validationError"], got.json()["validationError"]
    listed = client.get("/v1/models")
    assert listed.status_code == 200, listed.text


def test_values_stored_before_the_checks_never_make_a_read_fail(api, runtime):
    client, project_id = api
    # PostgreSQL's json type refuses Infinity itself; SQLite stores whatever it is given
    nested = float("inf") if runtime.engine.dialect.name == "sqlite" else 1.0
    poisoned = add_model(
        runtime,
        project_id,
        "legacy-poison",
        default_temperature=float("inf"),
        default_top_p=float("nan"),
        pre_quantization_bits=float("-inf"),
        extra_metadata={"modelType": "llama", "ropeFactor": nested, "nested": [nested]},
        is_shared=True,
        catalog_role="community",
    )
    for path in (
        "/v1/models",
        f"/v1/models/{poisoned}",
        "/v1/catalog/models",
        f"/v1/catalog/models/{poisoned}",
    ):
        response = client.get(path)
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text[:300]}"
    got = client.get(f"/v1/models/{poisoned}").json()
    # one read path on both databases: a non-finite value stored before the checks reads as null
    assert (got["defaultTemperature"], got["defaultTopP"], got["preQuantizationBits"]) == (None, None, None)
    entry = client.get(f"/v1/catalog/models/{poisoned}").json()
    assert (entry["defaultTemperature"], entry["defaultTopP"]) == (None, None), entry
    assert got["extraMetadata"]["ropeFactor"] == (None if nested != 1.0 else 1.0)


def test_the_same_values_through_the_api_are_400(api):
    client, _ = api
    for body in (
        b'{"Records": [{"x": NaN}]}',
        b'{"Records": [], "n": 1e400}',
        b'{"n": ' + b"9" * 5000 + b"}",
    ):
        response = client.post(
            "/v1/upload-events", content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400, response.text
        assert set(response.json()) == {"error"}
    model_id = client.post("/v1/models", json={"name": "plan"}).json()["id"]
    plan = client.post(
        f"/v1/models/{model_id}/load-plan",
        content=b'{"computeCapability": 1e400}',
        headers={"Content-Type": "application/json"},
    )
    assert 400 <= plan.status_code < 500, plan.text
