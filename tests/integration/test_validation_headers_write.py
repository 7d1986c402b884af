"""Validation writes every file's tensor header in one statement per model (PostgreSQL and SQLite),
counted on the real engine: not one ``UPDATE`` per shard."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from conftest import mint_key
from support.sparse import decoder_tensors, write_checkpoint
from xerotier.db.models import ModelFile
from xerotier.gateway.app import create_app
from xerotier.runtime import Runtime
from xerotier.validation.handlers import validate_model

pytestmark = pytest.mark.integration
SHARDS = 8
CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 64,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "num_hidden_layers": 4,
    "max_position_embeddings": 2048,
}


@pytest.fixture(params=["postgresql", "sqlite"])
def runtime(request) -> Runtime:
    return request.getfixturevalue("pg_runtime" if request.param == "postgresql" else "sqlite_runtime")


@pytest.fixture
def api(runtime: Runtime) -> Iterator[TestClient]:
    key = mint_key(runtime)
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        yield client


def _validating_model(api: TestClient, folder: Path) -> uuid.UUID:
    tensors = decoder_tensors(layers=4, hidden=64, inter=128, vocab=256, heads=4, kv_heads=2)
    write_checkpoint(folder, CONFIG, tensors, shards=SHARDS, files={"README.md": "# sharded\n"})
    model_id = api.post("/v1/models", json={"name": "sharded"}).json()["id"]
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        put = api.put(f"/v1/models/{model_id}/files/{path.name}", content=path.read_bytes())
        assert put.status_code == 201, put.text
    assert api.post(f"/v1/models/{model_id}/complete").status_code == 202
    return uuid.UUID(model_id)


def test_headers_of_every_shard_are_written_in_one_statement(runtime, api, tmp_path):
    model_id = _validating_model(api, tmp_path / "m")
    writes: list[int] = []  # statements run: an executemany of n parameter sets is n statements

    def count(_conn, _cursor, statement: str, parameters, _context, executemany: bool) -> None:
        if statement.lstrip().upper().startswith("UPDATE MODEL_FILES"):
            writes.append(len(parameters) if executemany else 1)

    event.listen(runtime.engine, "before_cursor_execute", count)
    try:
        assert validate_model(runtime, model_id) == "ready"
    finally:
        event.remove(runtime.engine, "before_cursor_execute", count)
    assert sum(writes) == 1, writes
    with runtime.session_factory() as session:
        rows = {
            r.path: r.header for r in session.scalars(select(ModelFile).where(ModelFile.model_id == model_id))
        }
    shards = [p for p in rows if p.endswith(".safetensors")]
    assert len(shards) == SHARDS
    assert all(rows[p] for p in shards)  # every shard got its tensors
    assert rows["model-00001-of-00008.safetensors"]["model.embed_tokens.weight"] == {
        "dtype": "BF16",
        "shape": [256, 64],
    }
    assert rows["README.md"] is None and rows["config.json"] is None
