"""Validation through a real worker on PostgreSQL + Redis: metadata written, revalidation three ways."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update

from support import pickles
from support.processes import BIN, settings_env, wait_for_status
from support.sparse import decoder_parameters, decoder_tensors, quantize, write_checkpoint
from xerotier.db.models import Model, ModelFile
from xerotier.queue import names, outbox
from xerotier.validation.metadata import EXTRACTOR_VERSION

pytestmark = pytest.mark.integration
DIMS = {"layers": 2, "hidden": 128, "inter": 256, "vocab": 512, "heads": 4, "kv_heads": 2}
TEMPLATE = "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}"


def rich_checkpoint(folder: Path) -> Path:
    config = {
        "architectures": ["Qwen2ForCausalLM"],
        "model_type": "qwen2",
        "hidden_size": 128,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "num_hidden_layers": 2,
        "max_position_embeddings": 8192,
        "rope_scaling": {"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 8192},
        "quantization_config": {"quant_method": "gptq", "bits": 4, "group_size": 32, "desc_act": False},
    }
    return write_checkpoint(
        folder,
        config,
        quantize(decoder_tensors(**DIMS), "gptq", group=32),
        shards=2,
        files={
            "generation_config.json": {"temperature": 0.7, "top_p": 0.8},
            "tokenizer_config.json": {"chat_template": TEMPLATE},
            "README.md": "---\nlicense: apache-2.0\ntags: [code]\n---\n# Tiny coder\n",
        },
    )


def upload(client, folder: Path, name: str, **fields) -> str:
    created = client.post("/v1/models", json={"name": name, **fields})
    assert created.status_code == 201, created.text
    model_id = created.json()["id"]
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        put = client.put(
            f"/v1/models/{model_id}/files/{path.relative_to(folder).as_posix()}", content=path.read_bytes()
        )
        assert put.status_code == 201, put.text
    assert client.post(f"/v1/models/{model_id}/complete").status_code == 202
    return model_id


def events(client, model_id: str) -> list[str]:
    return [e["event"] for e in client.get(f"/v1/models/{model_id}/events").json()["events"]]


def test_every_metadata_field_reaches_the_api(pg_api, pg_worker, pg_runtime, tmp_path):
    model_id = upload(pg_api, rich_checkpoint(tmp_path / "m"), "tiny-coder")
    model = wait_for_status(pg_api, model_id, {"ready", "error"})
    assert model["status"] == "ready", model["validationError"]
    assert model["architecture"] == "qwen" and model["modelType"] == "qwen2"
    assert model["architectures"] == ["Qwen2ForCausalLM"]
    assert model["parameterCount"] == decoder_parameters(**DIMS)
    assert model["contextLength"] == 8192 * 4
    assert model["license"] == "apache-2.0"
    assert (model["defaultTemperature"], model["defaultTopP"]) == (0.7, 0.8)
    assert model["chatTemplate"] == TEMPLATE
    assert (model["isPreQuantized"], model["preQuantizationMethod"], model["preQuantizationBits"]) == (
        True,
        "gptq",
        4,
    )
    assert model["isMultimodal"] is False and model["numExperts"] is None
    assert model["workloadType"] == "code"
    assert model["extractorVersion"] == EXTRACTOR_VERSION
    assert model["extraMetadata"]["headDim"] == 32
    with pg_runtime.session_factory() as session:
        rows = {
            r.path: r.header for r in session.scalars(select(ModelFile).where(ModelFile.model_id == model_id))
        }
    assert rows["README.md"] is None
    shard = rows["model-00001-of-00002.safetensors"]
    assert shard["model.embed_tokens.weight"] == {"dtype": "BF16", "shape": [512, 128]}
    assert shard["model.layers.0.self_attn.q_proj.qweight"]["dtype"] == "I32"


def test_client_workload_type_is_kept(pg_api, pg_worker, tmp_path):
    model_id = upload(pg_api, rich_checkpoint(tmp_path / "m"), "tiny-coder", workloadType="multilingual")
    model = wait_for_status(pg_api, model_id, {"ready", "error"})
    assert model["workloadType"] == "multilingual"
    assert model["extraMetadata"]["suggestedWorkloadType"] == "code"


def test_a_malicious_pickle_ends_in_error_naming_the_import(pg_api, pg_worker, tmp_path):
    folder = tmp_path / "evil"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "llama"}))
    (folder / "pytorch_model.bin").write_bytes(
        pickles.zip_checkpoint(pickles.payload("os", "system", "touch /tmp/pwned"))
    )
    model_id = upload(pg_api, folder, "evil")
    model = wait_for_status(pg_api, model_id, {"ready", "error"})
    assert model["status"] == "error"
    assert model["validationError"] == (
        "pytorch_model.bin:archive/data.pkl: pickle imports os.system, which is not allowed in a checkpoint"
    )


def make_stale(runtime, model_id: str) -> None:
    """What an older extractor left behind: an old version number and fewer fields."""
    with runtime.unit_of_work() as session:
        session.execute(
            update(Model)
            .where(Model.id == uuid.UUID(model_id))
            .values(extractor_version=1, license=None, chat_template=None, parameter_count=None)
        )


def assert_refreshed(client, model_id: str, history_before: list[str]) -> None:
    deadline = time.monotonic() + 60  # wait for the two new events (not a timing assertion)
    while len(events(client, model_id)) < len(history_before) + 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    model = wait_for_status(client, model_id, {"ready", "error"})
    assert model["status"] == "ready", model["validationError"]
    assert model["extractorVersion"] == EXTRACTOR_VERSION
    assert model["license"] == "apache-2.0" and model["chatTemplate"] == TEMPLATE
    assert model["parameterCount"] == decoder_parameters(**DIMS)
    after = events(client, model_id)
    assert after[: len(history_before)] == history_before  # the lifecycle history is kept
    assert after[len(history_before) :] == ["revalidate", "validation_passed"]


def test_revalidate_over_http(pg_api, pg_worker, pg_runtime, tmp_path):
    model_id = upload(pg_api, rich_checkpoint(tmp_path / "m"), "tiny-coder")
    wait_for_status(pg_api, model_id, {"ready"})
    make_stale(pg_runtime, model_id)
    before = events(pg_api, model_id)
    response = pg_api.post(f"/v1/models/{model_id}/revalidate")
    assert response.status_code == 202 and response.json()["status"] == "validating"
    assert_refreshed(pg_api, model_id, before)


def test_revalidate_by_a_queued_task(pg_api, pg_worker, pg_runtime, tmp_path):
    model_id = upload(pg_api, rich_checkpoint(tmp_path / "m"), "tiny-coder")
    wait_for_status(pg_api, model_id, {"ready"})
    make_stale(pg_runtime, model_id)
    before = events(pg_api, model_id)
    with pg_runtime.unit_of_work() as session:  # any producer: enqueue the task by name
        outbox.enqueue(session, names.REVALIDATE, model_id=model_id)
    assert_refreshed(pg_api, model_id, before)


def test_bulk_revalidation_of_older_extractors(pg_api, pg_worker, pg_runtime, pg_settings, tmp_path):
    stale = upload(pg_api, rich_checkpoint(tmp_path / "a"), "stale")
    fresh = upload(pg_api, rich_checkpoint(tmp_path / "b"), "fresh")
    wait_for_status(pg_api, stale, {"ready"})
    wait_for_status(pg_api, fresh, {"ready"})
    make_stale(pg_runtime, stale)
    before, fresh_before = events(pg_api, stale), events(pg_api, fresh)
    command = [str(BIN / "xerotier"), "revalidate", "--extractor-older-than", str(EXTRACTOR_VERSION)]
    env = settings_env(pg_settings)
    dry = subprocess.run([*command, "--dry-run"], env=env, capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.split() == [stale] and "1 model versions would be revalidated" in dry.stderr
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [stale]
    assert_refreshed(pg_api, stale, before)
    assert events(pg_api, fresh) == fresh_before  # current extractor: untouched


def test_a_revalidation_racing_a_delete_answers_404_not_500(pg_api, pg_runtime):
    """Found by the soak run: the model was deleted between the revalidation's read and its update."""
    model_id = pg_api.post("/v1/models", json={"name": "doomed"}).json()["id"]
    with pg_runtime.unit_of_work() as session:  # a ready model, without running a validation
        session.execute(update(Model).where(Model.id == uuid.UUID(model_id)).values(status="ready"))
    with pg_runtime.engine.connect() as connection, ThreadPoolExecutor(1) as pool:
        deleting = connection.begin()
        connection.execute(delete(Model).where(Model.id == uuid.UUID(model_id)))  # holds the row lock
        answer = pool.submit(pg_api.post, f"/v1/models/{model_id}/revalidate")
        wait_until_blocked_on_a_lock(pg_runtime, answer)
        assert not answer.done(), "the revalidation should wait for the delete's row lock"
        deleting.commit()
        response = answer.result(timeout=30)
    assert response.status_code == 404, response.text
    assert response.json()["error"]["message"] == "Model not found"


def wait_until_blocked_on_a_lock(runtime, answer, timeout: float = 30.0) -> None:
    """Until another session of this database waits on a lock (the request reached the locked row)."""
    deadline = time.monotonic() + timeout
    with runtime.engine.connect() as watcher:
        while time.monotonic() < deadline and not answer.done():
            waiting = watcher.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                )
            )
            watcher.rollback()
            if waiting:
                return
            time.sleep(0.02)
    raise AssertionError("the revalidation never waited on the delete's row lock")
