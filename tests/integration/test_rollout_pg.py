"""Roll-out on PostgreSQL: a promote rolls every following endpoint out beside the served load; the
switch happens on the new load's acknowledgment; a failure leaves the old version serving."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from support.model_shapes import LLAMA31_8B, llama_header
from support.registry_rows import endpoint, ready_model
from xerotier.catalog.versions import promotion
from xerotier.db.backends import register_backend
from xerotier.db.models import Endpoint, EndpointEventRow, Load, Model, ModelFile, OutboxMessage
from xerotier.domain.inventory import Inventory, parse_gpu_declaration
from xerotier.loading import handlers, queries
from xerotier.queue import names
from xerotier.queue.reconciler import sweep_idle_endpoints

pytestmark = pytest.mark.integration
OK = {"ok": True, "engine": {"kind": "transformers", "serving": True, "url": "http://127.0.0.1:1"}}


@pytest.fixture
def h100(pg_runtime):
    """One backend with two H100s: vLLM preallocates its share of a GPU, so a new version rolls out
    on the GPU the old one does not hold."""
    gpu = parse_gpu_declaration("name=NVIDIA H100 80GB HBM3,memory=80GiB,cc=9.0")
    with pg_runtime.unit_of_work() as session:
        register_backend(session, "h100-a", Inventory("cuda", (gpu, gpu)).to_json(), "declared", {})


def _second_version(runtime, first: uuid.UUID, version: str) -> uuid.UUID:
    """A ready version of the same name with the same files (not latest)."""
    with runtime.unit_of_work() as session:
        src = session.get(Model, first)
        new = Model(
            id=uuid.uuid4(),
            project_id=src.project_id,
            name=src.name,
            version=version,
            is_latest=False,
            status="ready",
            format="safetensors",
            context_length=src.context_length,
        )
        session.add(new)
        session.flush()
        for f in session.scalars(select(ModelFile).where(ModelFile.model_id == first)).all():
            session.add(
                ModelFile(
                    model_id=new.id, path=f.path, size_bytes=f.size_bytes, sha256=f.sha256, header=f.header
                )
            )
        return new.id


def _endpoint(runtime, endpoint_id) -> Endpoint:
    with runtime.session_factory() as session:
        return session.get(Endpoint, endpoint_id)


def _loads(runtime, endpoint_id) -> list[Load]:
    with runtime.session_factory() as session:
        return list(
            session.scalars(select(Load).where(Load.endpoint_id == endpoint_id).order_by(Load.created_at))
        )


def _outbox(runtime, task: str) -> list[dict]:
    with runtime.session_factory() as session:
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.task_name == task).order_by(OutboxMessage.id)
        )
        return [r.kwargs for r in rows]


def test_promote_rolls_out_beside_the_served_load_and_switches_on_the_ack(pg_runtime, h100):
    v1 = ready_model(pg_runtime, "llama-8b", LLAMA31_8B, llama_header(LLAMA31_8B))
    ep = endpoint(pg_runtime, "llama-8b")
    assert handlers.place(pg_runtime, ep) == "placed on h100-a"
    first = _loads(pg_runtime, ep)[0]
    # the load message carries everything the agent needs: it reads no registry row
    message = _outbox(pg_runtime, names.AGENT_LOAD)[-1]
    assert message["load_id"] == str(first.id) and message["served_name"] == "llama-8b:1.0.0"
    assert {f["path"] for f in message["files"]} == {"config.json", "model.safetensors"}
    assert _endpoint(pg_runtime, ep).serving_model_id is None  # nothing claims to serve yet
    assert handlers.record_ack(pg_runtime, first.id, OK) == "loaded"
    row = _endpoint(pg_runtime, ep)
    assert (row.status, row.serving_model_id, row.target_model_id) == ("serving", v1, None)

    v2 = _second_version(pg_runtime, v1, "2.0.0")
    with pg_runtime.session_factory() as session:
        project = session.get(Model, v1).project_id
    promotion.promote(pg_runtime, project, v1, "2.0.0", None)
    assert _outbox(pg_runtime, names.LOADING_FOLLOW) == [
        {"model_project_id": project, "model_name": "llama-8b"}
    ]
    assert handlers.follow_latest(pg_runtime, project, "llama-8b") == 1
    row = _endpoint(pg_runtime, ep)
    assert (row.status, row.serving_model_id, row.target_model_id) == ("rolling", v1, v2)
    assert "1.0.0 keeps serving" in row.status_reason
    # resolution still answers with the served version during the roll-out
    assert queries.resolve_endpoint(pg_runtime, project, ep, 10, None)["version"] == "1.0.0"

    # the new load fails: 1.0.0 keeps serving and the endpoint says why
    second = _loads(pg_runtime, ep)[-1]
    assert handlers.record_ack(pg_runtime, second.id, {"ok": False, "error": "engine exited"}) == "failed"
    row = _endpoint(pg_runtime, ep)
    assert (row.status, row.serving_model_id) == ("rollout_failed", v1)
    assert row.status_reason == "Cannot roll to 2.0.0: Load failed on h100-a: engine exited"
    assert queries.resolve_endpoint(pg_runtime, project, ep, 10, None)["version"] == "1.0.0"

    # retried: this time it loads, the endpoint switches and the old load is unloaded
    assert handlers.place(pg_runtime, ep) == "placed on h100-a"
    third = _loads(pg_runtime, ep)[-1]
    assert handlers.record_ack(pg_runtime, third.id, OK | {"x": 1}) == "loaded"
    assert handlers.record_ack(pg_runtime, third.id, OK) == "ignored"  # a duplicate changes nothing
    row = _endpoint(pg_runtime, ep)
    assert (row.status, row.serving_model_id, row.serving_load_id) == ("serving", v2, third.id)
    statuses = {load.id: load.status for load in _loads(pg_runtime, ep)}
    assert statuses == {first.id: "unloaded", second.id: "failed", third.id: "loaded"}
    assert {"load_id": str(first.id)} in _outbox(pg_runtime, names.AGENT_UNLOAD)
    assert queries.resolve_endpoint(pg_runtime, project, ep, 10, None)["version"] == "2.0.0"
    with pg_runtime.session_factory() as session:
        events = session.scalars(
            select(EndpointEventRow).where(EndpointEventRow.endpoint_id == ep).order_by(EndpointEventRow.id)
        ).all()
        assert [e.event for e in events] == ["place", "switch", "roll", "roll_failed", "roll", "switch"]
        assert session.get(Model, v1).status == "ready" and session.get(Model, v2).status == "active"


def test_a_roll_out_superseded_by_a_rollback_is_dropped(pg_runtime, h100):
    v1 = ready_model(pg_runtime, "llama-8b", LLAMA31_8B, llama_header(LLAMA31_8B))
    ep = endpoint(pg_runtime, "llama-8b")
    handlers.place(pg_runtime, ep)
    handlers.record_ack(pg_runtime, _loads(pg_runtime, ep)[0].id, OK)
    _second_version(pg_runtime, v1, "2.0.0")
    with pg_runtime.session_factory() as session:
        project = session.get(Model, v1).project_id
    promotion.promote(pg_runtime, project, v1, "2.0.0", None)
    handlers.follow_latest(pg_runtime, project, "llama-8b")
    rolling = _loads(pg_runtime, ep)[-1]
    promotion.promote(pg_runtime, project, v1, "1.0.0", None, promotion.PromotionKind.ROLLBACK)
    assert handlers.follow_latest(pg_runtime, project, "llama-8b") == 1
    row = _endpoint(pg_runtime, ep)
    assert (row.status, row.serving_model_id, row.target_model_id) == ("serving", v1, None)
    # the late acknowledgment of the dropped load switches nothing, and its engine is stopped
    assert handlers.record_ack(pg_runtime, rolling.id, OK) == "ignored"
    assert _outbox(pg_runtime, names.AGENT_UNLOAD)[-1] == {"load_id": str(rolling.id)}
    assert _endpoint(pg_runtime, ep).serving_model_id == v1


def test_an_unfittable_new_version_leaves_the_old_one_serving(pg_runtime, h100):
    v1 = ready_model(pg_runtime, "llama-8b", LLAMA31_8B, llama_header(LLAMA31_8B))
    ep = endpoint(pg_runtime, "llama-8b")
    handlers.place(pg_runtime, ep)
    handlers.record_ack(pg_runtime, _loads(pg_runtime, ep)[0].id, OK)
    v2 = _second_version(pg_runtime, v1, "2.0.0")
    with pg_runtime.session_factory() as session:
        project = session.get(Model, v1).project_id
    with pg_runtime.unit_of_work() as session:  # no backend is alive any more
        session.execute(update(handlers.Backend).values(heartbeat_at=datetime(2000, 1, 1, tzinfo=UTC)))
    promotion.promote(pg_runtime, project, v1, "2.0.0", None)
    handlers.follow_latest(pg_runtime, project, "llama-8b")
    row = _endpoint(pg_runtime, ep)
    assert (row.status, row.serving_model_id, row.target_model_id) == ("rollout_failed", v1, v2)
    assert row.status_reason.startswith("Cannot roll to 2.0.0: No compatible backend")


def test_idle_endpoints_are_unloaded_when_the_setting_is_on(pg_runtime, h100):
    assert sweep_idle_endpoints(pg_runtime) is False  # off by default
    v1 = ready_model(pg_runtime, "llama-8b", LLAMA31_8B, llama_header(LLAMA31_8B))
    ep = endpoint(pg_runtime, "llama-8b")
    handlers.place(pg_runtime, ep)
    handlers.record_ack(pg_runtime, _loads(pg_runtime, ep)[0].id, OK)
    assert handlers.unload_idle(pg_runtime, 3600) == 0  # acknowledged just now
    assert handlers.unload_idle(pg_runtime, 0.0001) == 1
    row = _endpoint(pg_runtime, ep)
    assert (row.status, row.serving_model_id) == ("idle", None)
    with pg_runtime.session_factory() as session:
        assert session.get(Model, v1).status == "ready"
    pg_runtime.settings.endpoint_idle_seconds = 60
    try:
        assert sweep_idle_endpoints(pg_runtime) is True
        assert _outbox(pg_runtime, names.LOADING_IDLE_SWEEP) == [{}]
    finally:
        pg_runtime.settings.endpoint_idle_seconds = 0
