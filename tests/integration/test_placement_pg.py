"""Placement on PostgreSQL among several declared backends; acks, unloads and backend death."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from support.model_shapes import LLAMA31_8B, llama_header
from support.registry_rows import endpoint, ready_model
from xerotier.db.backends import register_backend
from xerotier.db.models import Backend, Endpoint, LifecycleEventRow, Load, Model, ModelFile, OutboxMessage
from xerotier.domain.inventory import Inventory, parse_gpu_declaration
from xerotier.loading import handlers
from xerotier.queue import names
from xerotier.queue.reconciler import sweep_backends

pytestmark = pytest.mark.integration

DECLARED = {
    "h100-a": "name=NVIDIA H100 80GB HBM3,memory=80GiB,cc=9.0",
    "l4-a": "name=NVIDIA L4,memory=24GiB,cc=8.9",
    "t4-a": "name=Tesla T4,memory=16GiB,cc=7.5",
    "dead-h100": "name=NVIDIA H100 80GB HBM3,memory=80GiB,cc=9.0",
}


@pytest.fixture
def backends(pg_runtime):
    with pg_runtime.unit_of_work() as session:
        for backend_id, decl in DECLARED.items():
            inv = Inventory("cuda", (parse_gpu_declaration(decl),))
            register_backend(session, backend_id, inv.to_json(), "declared", {})
        session.flush()
        session.execute(
            update(Backend)
            .where(Backend.id == "dead-h100")
            .values(heartbeat_at=datetime.now(UTC) - timedelta(minutes=10))
        )
    return list(DECLARED)


def _load_of(runtime, endpoint_id):
    with runtime.session_factory() as session:
        return session.scalars(select(Load).where(Load.endpoint_id == endpoint_id)).one()


def _endpoint(runtime, endpoint_id) -> Endpoint:
    with runtime.session_factory() as session:
        return session.get(Endpoint, endpoint_id)


def test_places_on_compatible_backends_in_order_of_preference(pg_runtime, backends):
    ready_model(pg_runtime, "llama-8b", LLAMA31_8B, llama_header(LLAMA31_8B))
    eps = [endpoint(pg_runtime, "llama-8b") for _ in range(5)]

    # 1: H100 and L4 both hold bf16 natively (T4 needs runtime quantization); neither is loaded → by id
    assert handlers.place(pg_runtime, eps[0]) == "placed on h100-a"
    first = _load_of(pg_runtime, eps[0])
    assert first.plan["quantizationReason"] == "native_fits" and first.plan["contextLength"] == 131072
    # 2: the H100's memory is now held by the first load → the L4, still native
    assert handlers.place(pg_runtime, eps[1]) == "placed on l4-a"
    # 3: only the T4 is left, with runtime quantization (4-bit bitsandbytes: fp8 needs cc 8.0)
    assert handlers.place(pg_runtime, eps[2]) == "placed on t4-a"
    third = _load_of(pg_runtime, eps[2])
    assert third.plan["appliedQuantization"] == "bitsandbytes"
    # 4: a vLLM holds its whole budget (0.90 × total), so the H100 has 80 − 72 = 8 GiB free: a second
    # vLLM there gets utilization 0.10 (7.2 GiB), less than even 4-bit weights + reserve; the endpoint
    # says why, backend by backend
    assert handlers.place(pg_runtime, eps[3]) == "failed"
    reason = _endpoint(pg_runtime, eps[3]).status_reason
    assert reason.startswith("No compatible backend: ")
    assert "dead-h100: not alive (missed heartbeats)" in reason
    assert "h100-a: cannot_fit" in reason and "t4-a: cannot_fit" in reason
    assert handlers.place(pg_runtime, eps[4]) == "failed"

    with pg_runtime.session_factory() as session:
        queues = session.scalars(
            select(OutboxMessage.queue)
            .where(OutboxMessage.task_name == names.AGENT_LOAD)
            .order_by(OutboxMessage.id)
        ).all()
    assert queues == ["gpu.h100-a", "gpu.l4-a", "gpu.t4-a"]
    assert _endpoint(pg_runtime, eps[0]).status == "loading"
    # a duplicate delivery of the same placement changes nothing
    assert handlers.place(pg_runtime, eps[0]) == "already placed"


def test_ack_serves_and_activates_then_unload_returns_to_ready(pg_runtime, backends):
    model_id = ready_model(pg_runtime, "llama-8b", LLAMA31_8B, llama_header(LLAMA31_8B))
    a, b = endpoint(pg_runtime, "llama-8b"), endpoint(pg_runtime, "llama-8b")
    handlers.place(pg_runtime, a)
    handlers.place(pg_runtime, b)
    load_a, load_b = _load_of(pg_runtime, a), _load_of(pg_runtime, b)
    ack = {"ok": True, "appliedQuantization": None, "quantizationReason": "native_fits"}
    assert handlers.record_ack(pg_runtime, load_a.id, ack) == "loaded"
    assert handlers.record_ack(pg_runtime, load_a.id, ack) == "ignored"  # duplicate
    assert handlers.record_ack(pg_runtime, load_b.id, ack) == "loaded"
    assert _endpoint(pg_runtime, a).status == "serving"
    with pg_runtime.session_factory() as session:
        assert session.get(Model, model_id).status == "active"

    assert handlers.unload(pg_runtime, a) == 1
    with pg_runtime.session_factory() as session:
        assert session.get(Model, model_id).status == "active"  # b still serves it
    assert handlers.unload(pg_runtime, b) == 1
    with pg_runtime.session_factory() as session:
        assert session.get(Model, model_id).status == "ready"
        events = session.scalars(
            select(LifecycleEventRow.event)
            .where(LifecycleEventRow.model_id == model_id)
            .order_by(LifecycleEventRow.id)
        ).all()
        unloads = session.scalars(
            select(OutboxMessage.queue).where(OutboxMessage.task_name == names.AGENT_UNLOAD)
        ).all()
    assert events == ["serve", "idle"]
    assert sorted(unloads) == sorted([f"gpu.{load_a.backend_id}", f"gpu.{load_b.backend_id}"])


def test_failed_ack_fails_the_endpoint_with_the_agents_reason(pg_runtime, backends):
    model_id = ready_model(pg_runtime, "llama-8b", LLAMA31_8B, llama_header(LLAMA31_8B))
    ep = endpoint(pg_runtime, "llama-8b")
    handlers.place(pg_runtime, ep)
    load = _load_of(pg_runtime, ep)
    error = "model.safetensors: sha256 mismatch"
    assert handlers.record_ack(pg_runtime, load.id, {"ok": False, "error": error}) == "failed"
    row = _endpoint(pg_runtime, ep)
    assert row.status == "failed" and error in row.status_reason
    with pg_runtime.session_factory() as session:
        assert session.get(Model, model_id).status == "ready"


def test_backend_death_replaces_its_loads(pg_runtime, backends):
    ready_model(pg_runtime, "llama-8b", LLAMA31_8B, llama_header(LLAMA31_8B))
    ep = endpoint(pg_runtime, "llama-8b")
    handlers.place(pg_runtime, ep)
    load = _load_of(pg_runtime, ep)
    handlers.record_ack(pg_runtime, load.id, {"ok": True})
    assert handlers.replace_dead_backend_loads(pg_runtime) == 0
    assert sweep_backends(pg_runtime) is False  # the dead-h100 holds no load: nothing to ask
    with pg_runtime.unit_of_work() as session:
        session.execute(
            update(Backend)
            .where(Backend.id == load.backend_id)
            .values(heartbeat_at=datetime.now(UTC) - timedelta(minutes=5))
        )
    assert sweep_backends(pg_runtime) is True  # the housekeeper asks loading to sweep
    with pg_runtime.session_factory() as session:
        sweeps = session.scalars(
            select(OutboxMessage.queue).where(OutboxMessage.task_name == names.LOADING_SWEEP)
        )
        assert list(sweeps) == ["loading"]
    assert handlers.replace_dead_backend_loads(pg_runtime) == 1
    assert sweep_backends(pg_runtime) is False
    with pg_runtime.session_factory() as session:
        assert session.get(Load, load.id).status == "lost"
        place = session.scalars(
            select(OutboxMessage.kwargs).where(OutboxMessage.task_name == names.LOADING_PLACE)
        ).all()
    assert {"endpoint_id": str(ep)} in place
    # placing again skips the dead backend
    assert handlers.place(pg_runtime, ep) == "placed on l4-a"


def test_no_ready_version_and_no_backend_say_why(pg_runtime):
    ep = endpoint(pg_runtime, "missing")
    assert handlers.place(pg_runtime, ep) == "failed"
    assert _endpoint(pg_runtime, ep).status_reason == "The model has no ready version"
    ready_model(pg_runtime, "llama-8b", LLAMA31_8B, llama_header(LLAMA31_8B))
    ep2 = endpoint(pg_runtime, "llama-8b")
    handlers.place(pg_runtime, ep2)
    assert _endpoint(pg_runtime, ep2).status_reason == "No compatible backend: no backend is registered"


def test_a_newer_version_takes_over_and_the_old_one_is_let_go(pg_runtime, backends):
    old = ready_model(pg_runtime, "llama-8b", LLAMA31_8B, llama_header(LLAMA31_8B))
    ep = endpoint(pg_runtime, "llama-8b")
    handlers.place(pg_runtime, ep)
    first = _load_of(pg_runtime, ep)
    handlers.record_ack(pg_runtime, first.id, {"ok": True})
    # version 2.0.0 becomes the latest (what promotion does), and the endpoint is placed again
    with pg_runtime.unit_of_work() as session:
        row = session.get(Model, old)
        row.is_latest = False
        session.flush()
        new = Model(
            project_id=row.project_id, name=row.name, version="2.0.0", is_latest=True, status="ready",
            context_length=row.context_length,
        )  # fmt: skip
        session.add(new)
        session.flush()
        for f in session.scalars(select(ModelFile).where(ModelFile.model_id == old)).all():
            session.add(
                ModelFile(
                    model_id=new.id, path=f.path, size_bytes=f.size_bytes, sha256=f.sha256, header=f.header
                )
            )
        new_id = new.id
    assert handlers.place(pg_runtime, ep).startswith("placed on")
    with pg_runtime.session_factory() as session:
        second = session.scalars(select(Load).where(Load.endpoint_id == ep, Load.model_id == new_id)).one()
    handlers.record_ack(pg_runtime, second.id, {"ok": True})
    with pg_runtime.session_factory() as session:
        assert session.get(Load, first.id).status == "unloaded"
        assert session.get(Model, old).status == "ready"
        assert session.get(Model, new_id).status == "active"
