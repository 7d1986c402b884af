"""Pending promotions and first-ready through the real pipeline: upload → validation worker →
``CATALOG_STATUS_CHANGED`` from the outbox → the catalog task; and the diff of validated versions."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file
from sqlalchemy import update

from support.checkpoints import LLAMA_TINY_CONFIG, write_tiny_checkpoint
from support.processes import wait_for_status
from xerotier.db.models import Model

pytestmark = pytest.mark.integration


def put_dir(api, model_id: str, folder: Path) -> None:
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        response = api.put(
            f"/v1/models/{model_id}/files/{path.relative_to(folder).as_posix()}", content=path.read_bytes()
        )
        assert response.status_code == 201, response.text
    assert api.post(f"/v1/models/{model_id}/complete").status_code == 202


def wait_latest(api, model_id: str, version: str, timeout: float = 60) -> list[dict]:
    deadline = time.monotonic() + timeout
    versions: list[dict] = []
    while time.monotonic() < deadline:
        versions = api.get(f"/v1/models/{model_id}/versions").json()["versions"]
        if [v["version"] for v in versions if v["isLatest"]] == [version]:
            return versions
        time.sleep(0.1)
    raise TimeoutError(f"{version} never became latest: {versions}")


def wait_history(api, model_id: str, count: int, timeout: float = 60) -> list[dict]:
    deadline = time.monotonic() + timeout
    history: list[dict] = []
    while time.monotonic() < deadline:
        history = api.get(f"/v1/models/{model_id}/versions/history").json()["history"]
        if len(history) >= count:
            return history
        time.sleep(0.1)
    raise TimeoutError(f"history has {len(history)} events, expected {count}: {history}")


def write_v2_checkpoint(folder: Path) -> Path:
    """The tiny model with a wider embedding, one extra tensor, one dropped, and a longer context."""
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {
        "model.embed_tokens.weight": np.zeros((512, 64), dtype=np.float16),  # shape changed
        "model.layers.0.self_attn.q_proj.weight": np.zeros((64, 64), dtype=np.float32),  # dtype changed
        "model.layers.0.self_attn.k_proj.weight": np.zeros((32, 64), dtype=np.float16),
        "model.layers.0.mlp.up_proj.weight": np.zeros((128, 64), dtype=np.float16),
        "lm_head.weight": np.zeros((512, 64), dtype=np.float16),  # added
    }  # model.layers.1.* removed
    save_file(tensors, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps({**LLAMA_TINY_CONFIG, "max_position_embeddings": 8192}))
    return folder


def test_pending_promotion_applies_when_ready_and_drops_on_error(pg_api, pg_worker, pg_runtime, tmp_path):
    v1 = pg_api.post("/v1/models", json={"name": "tiny"}).json()
    put_dir(pg_api, v1["id"], write_tiny_checkpoint(tmp_path / "v1"))
    assert wait_for_status(pg_api, v1["id"], {"ready", "error"})["status"] == "ready"
    first = wait_history(pg_api, v1["id"], 1)
    assert [(h["kind"], h["from"], h["to"], h["who"]) for h in first] == [
        ("first-ready", None, "1.0.0", None)
    ]

    v2 = pg_api.post(f"/v1/models/{v1['id']}/versions", json={"version": "2.0.0"}).json()
    pending = pg_api.post(f"/v1/models/{v1['id']}/versions/2.0.0/promote")
    assert pending.status_code == 202 and pending.json()["promotion"] == "pending"
    put_dir(pg_api, v2["id"], write_v2_checkpoint(tmp_path / "v2"))
    versions = wait_latest(pg_api, v1["id"], "2.0.0")
    assert {v["version"]: v["status"] for v in versions} == {"2.0.0": "ready", "1.0.0": "ready"}
    history = wait_history(pg_api, v1["id"], 2)
    assert (history[0]["kind"], history[0]["from"], history[0]["to"]) == ("promote", "1.0.0", "2.0.0")
    assert history[0]["who"] is not None  # the key that asked, not the worker

    v3 = pg_api.post(f"/v1/models/{v1['id']}/versions", json={"version": "3.0.0"}).json()
    assert pg_api.post(f"/v1/models/{v1['id']}/versions/3.0.0/promote").status_code == 202
    broken = tmp_path / "v3"
    broken.mkdir()
    (broken / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}......")
    put_dir(pg_api, v3["id"], broken)
    assert wait_for_status(pg_api, v3["id"], {"ready", "error"})["status"] == "error"
    deadline = time.monotonic() + 60
    events: list[dict] = []
    while time.monotonic() < deadline:
        events = pg_api.get(f"/v1/models/{v3['id']}/events").json()["events"]
        if events[-1]["event"] == "promotion_dropped":
            break
        time.sleep(0.1)
    assert events[-1]["event"] == "promotion_dropped", events
    assert "pending promote dropped" in events[-1]["reason"]
    assert [v["version"] for v in wait_latest(pg_api, v1["id"], "2.0.0") if v["isLatest"]] == ["2.0.0"]
    assert len(pg_api.get(f"/v1/models/{v1['id']}/versions/history").json()["history"]) == 2


def test_diff_of_two_validated_versions(pg_api, pg_worker, pg_runtime, tmp_path):
    v1 = pg_api.post("/v1/models", json={"name": "tiny"}).json()
    put_dir(pg_api, v1["id"], write_tiny_checkpoint(tmp_path / "v1"))
    v2 = pg_api.post(f"/v1/models/{v1['id']}/versions", json={"version": "2.0.0"}).json()
    put_dir(pg_api, v2["id"], write_v2_checkpoint(tmp_path / "v2"))
    for mid in (v1["id"], v2["id"]):
        assert wait_for_status(pg_api, mid, {"ready", "error"})["status"] == "ready"
    with pg_runtime.unit_of_work() as session:
        session.execute(
            update(Model)
            .where(Model.id == uuid.UUID(v2["id"]))
            .values(chat_template="{{ messages }}", default_top_p=0.9)
        )

    response = pg_api.get(f"/v1/models/{v2['id']}/versions/diff", params={"from": "1.0.0", "to": "2.0.0"})
    assert response.status_code == 200, response.text
    diff = response.json()
    assert diff["from"] == "1.0.0" and diff["to"] == "2.0.0"
    assert diff["metadata"]["contextLength"] == {"from": 4096, "to": 8192}
    assert "architecture" not in diff["metadata"]
    assert diff["chatTemplate"] == {"changed": True, "from": None, "to": "{{ messages }}"}
    assert diff["generationDefaults"] == {"defaultTopP": {"from": None, "to": 0.9}}
    assert diff["files"]["added"] == [] and diff["files"]["removed"] == []
    assert [c["path"] for c in diff["files"]["changed"]] == ["config.json", "model.safetensors"]
    tensors = diff["tensors"]
    assert [t["name"] for t in tensors["added"]] == ["lm_head.weight"]
    assert {t["name"] for t in tensors["removed"]} == {
        "model.layers.1.self_attn.q_proj.weight",
        "model.layers.1.self_attn.k_proj.weight",
        "model.layers.1.mlp.up_proj.weight",
    }
    changed = {t["name"]: (t["from"], t["to"]) for t in tensors["changed"]}
    assert changed == {
        "model.embed_tokens.weight": (
            {"dtype": "F16", "shape": [256, 64]},
            {"dtype": "F16", "shape": [512, 64]},
        ),
        "model.layers.0.self_attn.q_proj.weight": (
            {"dtype": "F16", "shape": [64, 64]},
            {"dtype": "F32", "shape": [64, 64]},
        ),
    }
    bad = pg_api.get(f"/v1/models/{v2['id']}/versions/diff", params={"from": "1.0.0", "to": "7.0.0"})
    assert (
        bad.status_code == 404 and bad.json()["error"]["message"] == "Version 7.0.0 of model 'tiny' not found"
    )
