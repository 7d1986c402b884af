"""Loading use cases: place a load, record an acknowledgment, unload, re-place after backend death."""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xerotier.db.backends import dead_backends
from xerotier.db.models import Endpoint, Load, Model
from xerotier.db.transitions import apply_transition
from xerotier.domain.inventory import Inventory
from xerotier.domain.lifecycle import SERVABLE, LifecycleEvent, ModelStatus
from xerotier.errors import InvalidInput
from xerotier.loading import statuses as st
from xerotier.loading.fleet_rows import fleet
from xerotier.loading.inputs import shape_of
from xerotier.loading.model_shape import ModelShape
from xerotier.loading.placement import Candidate, Placement, choose, remaining
from xerotier.loading.planner import LoadPlan, PlanOptions, plan_key, plan_load, quick_fit
from xerotier.queue import names, outbox
from xerotier.runtime import Runtime

log = logging.getLogger(__name__)


def plan_options(options: dict[str, Any] | None) -> PlanOptions:
    """A backend's recorded agent options as planner options."""
    opts = options or {}
    return PlanOptions(
        gpu_memory_utilization=float(opts.get("gpuMemoryUtilization") or 0.90),
        kv_cache_dtype=str(opts.get("kvCacheDtype") or "auto"),
        enable_moe_config=bool(opts.get("enableMoeConfig")),
        moe_config_files=frozenset(opts.get("moeConfigFiles") or ()),
    )


def used_bytes(plan: dict[str, Any] | None) -> int:
    """Memory a live load holds: vLLM takes its whole budget (``total × utilization``: weights, reserve
    and the KV cache pool), whatever its ``--max-num-seqs``."""
    if not plan or not plan.get("fits"):
        return 0
    mem = plan.get("memory", {})
    if mem.get("budgetBytes") is not None:
        return int(mem["budgetBytes"])
    kv = int(mem.get("perSequenceBytes", 0)) * int(plan.get("maxSequences", 0))
    return int(mem.get("weightsBytes", 0)) + int(mem.get("reserveBytes", 0)) + kv


def _inventory_key(doc: dict[str, Any]) -> tuple:
    """A cheap hashable key of an inventory document (identical GPUs share one plan)."""
    return (
        doc.get("device"),
        tuple(
            (
                g.get("name"),
                g.get("memoryBytes"),
                g.get("freeBytes"),
                g.get("computeCapability"),
                g.get("deviceName"),
            )
            for g in doc.get("gpus", ())
        ),
    )


def _options_key(options: dict[str, Any] | None) -> tuple:
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in (options or {}).items()))


def rank_backends(
    shape: ModelShape,
    backends: list[Any],
    used: dict[str, int],
    counts: dict[str, int],
    dead_after: timedelta,
    now: datetime,
) -> Placement:
    """Plan ``shape`` on live backends in preference order (once per distinct inventory), choose one.

    ``backends`` are ``Backend`` rows or rows with the same ``id``, ``inventory``, ``options`` and
    ``heartbeat_at``. Plans are ranked without their sentences; only the kept plan (or, when none
    fits, the refusals shown to the user) is planned again with its explanation.
    """
    parsed: dict[tuple, tuple[Inventory, PlanOptions]] = {}  # raw document → inventory, options
    plans: dict[tuple, LoadPlan] = {}  # what a plan depends on → the plan
    option_cache: dict[tuple, PlanOptions] = {}
    setups: dict[str, tuple[Inventory, PlanOptions]] = {}  # backend id → inventory, options
    verdicts: dict[str, str] = {}  # backend id → quick_fit
    cutoff = now - dead_after

    def setup_of(backend: Any) -> tuple[Inventory, PlanOptions]:
        entry = setups.get(backend.id)
        if entry is not None:
            return entry
        raw = (
            _inventory_key(backend.inventory),
            used.get(backend.id, 0),
            _options_key(backend.options),
        )
        entry = parsed.get(raw)
        if entry is None:
            inventory = remaining(Inventory.from_json(backend.inventory), raw[1])
            options = option_cache.get(raw[2])
            if options is None:
                options = option_cache[raw[2]] = plan_options(backend.options)
            entry = parsed[raw] = (inventory, options)
        setups[backend.id] = entry
        return entry

    def verdict_of(backend: Any) -> str:
        verdict = verdicts.get(backend.id)
        if verdict is None:
            verdict = verdicts[backend.id] = quick_fit(shape, *setup_of(backend))
        return verdict

    def plan_for(backend: Any) -> LoadPlan:
        inventory, options = setup_of(backend)
        key = plan_key(inventory, options)
        plan = plans.get(key)
        if plan is None:
            plan = plans[key] = plan_load(shape, inventory, options, explain=False)
        return plan

    # Preference: no runtime quantization, then fewest loads, then id. So when some live backend
    # fits natively (a cheap check, no plan built), the first such in (loads, id) order is the
    # best one; otherwise it is the first backend, in that order, that fits at all.
    live = sorted(
        (b for b in backends if b.heartbeat_at >= cutoff), key=lambda b: (counts.get(b.id, 0), b.id)
    )
    native = next((b for b in live if verdict_of(b) == "native"), None)
    candidates = []
    order = live if native is None else [native, *(b for b in live if b is not native)]
    for backend in order:
        # A backend too small for even the smallest weights is refused without a plan.
        plan = None if verdict_of(backend) == "none" else plan_for(backend)
        candidates.append(Candidate(backend.id, True, counts.get(backend.id, 0), plan))
        if plan is not None and plan.fits:
            break
    candidates += [
        Candidate(b.id, False, counts.get(b.id, 0), None) for b in backends if b.heartbeat_at < cutoff
    ]
    chosen = choose(candidates)

    def explained(c: Candidate) -> Candidate:
        if not c.alive:
            return c
        inventory, options = setups[c.backend_id]
        return replace(c, plan=plan_load(shape, inventory, options))

    if chosen.backend_id is not None:
        best = next(c for c in candidates if c.backend_id == chosen.backend_id)
        return replace(chosen, plan=explained(best).plan)
    ordered = sorted(candidates, key=lambda c: c.backend_id)
    return choose([explained(c) for c in ordered[:10]] + ordered[10:])


def resolve_model(session: Session, endpoint: Endpoint) -> Model | None:
    """The endpoint's model: the latest servable version of its name."""
    return session.scalars(
        select(Model).where(
            Model.project_id == endpoint.model_project_id,
            Model.name == endpoint.model_name,
            Model.is_latest,
            Model.status.in_([s.value for s in SERVABLE]),
        )
    ).first()


def _live_loads(session: Session) -> tuple[dict[str, int], dict[str, int]]:
    used: dict[str, int] = {}
    counts: dict[str, int] = {}
    rows = session.execute(
        select(Load.backend_id, Load.plan).where(Load.status.in_(st.LIVE_LOADS), Load.backend_id.is_not(None))
    )
    for backend_id, plan in rows:
        used[backend_id] = used.get(backend_id, 0) + used_bytes(plan)
        counts[backend_id] = counts.get(backend_id, 0) + 1
    return used, counts


def place(runtime: Runtime, endpoint_id: uuid.UUID) -> str:
    """Place the endpoint's model on a compatible backend and send the load to its queue."""
    dead_after = timedelta(seconds=runtime.settings.backend_dead_after_seconds)
    with runtime.unit_of_work() as session:
        endpoint = session.get(Endpoint, endpoint_id, with_for_update=True)
        if endpoint is None or endpoint.deleted_at is not None:
            return "gone"
        model = resolve_model(session, endpoint)
        if model is None:
            endpoint.status, endpoint.status_reason = st.ENDPOINT_FAILED, "The model has no ready version"
            return endpoint.status
        live = session.scalars(
            select(Load).where(
                Load.endpoint_id == endpoint.id, Load.model_id == model.id, Load.status.in_(st.LIVE_LOADS)
            )
        ).first()
        if live is not None:
            return "already placed"  # a duplicate delivery
        try:
            shape = shape_of(session, runtime.blobs, model)
        except InvalidInput as exc:
            endpoint.status, endpoint.status_reason = (
                st.ENDPOINT_FAILED,
                f"Cannot plan the load: {exc.message}",
            )
            return endpoint.status
        used, counts = _live_loads(session)
        backends = fleet(session)
        chosen = rank_backends(shape, backends, used, counts, dead_after, datetime.now(UTC))
        endpoint.resolved_model_id = model.id
        if chosen.backend_id is None or chosen.plan is None:
            endpoint.status, endpoint.status_reason = st.ENDPOINT_FAILED, chosen.reason
            log.info("endpoint %s: %s", endpoint.id, chosen.reason)
            return endpoint.status
        load = Load(
            id=uuid.uuid4(),
            endpoint_id=endpoint.id,
            model_id=model.id,
            backend_id=chosen.backend_id,
            plan=chosen.plan.to_json(),
            status=st.LOAD_LOADING,
            created_at=datetime.now(UTC),
        )
        session.add(load)
        endpoint.status, endpoint.status_reason = st.ENDPOINT_LOADING, chosen.reason
        outbox.enqueue(
            session, names.AGENT_LOAD, queue=names.gpu_queue(chosen.backend_id), load_id=str(load.id)
        )
        return f"placed on {chosen.backend_id}"


def record_ack(runtime: Runtime, load_id: uuid.UUID, ack: dict[str, Any]) -> str:
    """Record an agent's acknowledgment: the endpoint serves and the model becomes ``active``."""
    with runtime.unit_of_work() as session:
        load = session.get(Load, load_id, with_for_update=True)
        if load is None or load.status != st.LOAD_LOADING:
            return "ignored"  # duplicate, late, or unloaded meanwhile
        load.ack = ack
        load.acked_at = datetime.now(UTC)
        endpoint = session.get(Endpoint, load.endpoint_id)
        if not ack.get("ok"):
            load.status = st.LOAD_FAILED
            if endpoint is not None:
                endpoint.status = st.ENDPOINT_FAILED
                endpoint.status_reason = (
                    f"Load failed on {load.backend_id}: {ack.get('error', 'unknown error')}"
                )
            return st.LOAD_FAILED
        load.status = st.LOAD_LOADED
        if endpoint is not None:
            endpoint.status = st.ENDPOINT_SERVING
            endpoint.status_reason = f"serving on {load.backend_id}"
        model = session.get(Model, load.model_id)
        if model is not None and model.status == ModelStatus.READY:
            apply_transition(
                session,
                model.id,
                ModelStatus.READY,
                LifecycleEvent.SERVE,
                reason=f"serving on {load.backend_id}",
            )
        # the endpoint moved to a newer version: the loads of the version it replaced are let go
        replaced = _stop_loads(
            session,
            (Load.endpoint_id == load.endpoint_id) & (Load.id != load.id) & (Load.model_id != load.model_id),
        )
        session.flush()
        _idle_if_unserved(session, {row.model_id for row in replaced})
        return st.LOAD_LOADED


def _stop_loads(session: Session, where: Any) -> list[Load]:
    """Mark the live loads matching ``where`` unloaded and tell their agents."""
    loads = list(session.scalars(select(Load).where(where, Load.status.in_(st.LIVE_LOADS)).with_for_update()))
    for row in loads:
        row.status = st.LOAD_UNLOADED
        if row.backend_id is not None:
            outbox.enqueue(
                session, names.AGENT_UNLOAD, queue=names.gpu_queue(row.backend_id), load_id=str(row.id)
            )
    return loads


def _idle_if_unserved(session: Session, model_ids: set[uuid.UUID]) -> None:
    for model_id in model_ids:
        serving = session.scalar(
            select(func.count())
            .select_from(Load)
            .where(Load.model_id == model_id, Load.status == st.LOAD_LOADED)
        )
        if not serving:
            apply_transition(
                session, model_id, ModelStatus.ACTIVE, LifecycleEvent.IDLE, reason="no endpoint serves it"
            )


def unload(runtime: Runtime, endpoint_id: uuid.UUID) -> int:
    """Stop the endpoint's loads; the model returns to ``ready`` when nothing serves it any more."""
    with runtime.unit_of_work() as session:
        stopped = _stop_loads(session, Load.endpoint_id == endpoint_id)
        session.flush()
        _idle_if_unserved(session, {row.model_id for row in stopped})
        return len(stopped)


def replace_dead_backend_loads(runtime: Runtime, now: datetime | None = None) -> int:
    """Loads on backends that missed their heartbeats are lost: place their endpoints again."""
    dead_after = timedelta(seconds=runtime.settings.backend_dead_after_seconds)
    with runtime.unit_of_work() as session:
        dead = dead_backends(session, dead_after, now)
        if not dead:
            return 0
        loads = list(
            session.scalars(
                select(Load)
                .where(Load.backend_id.in_(dead), Load.status.in_(st.LIVE_LOADS))
                .with_for_update()
            )
        )
        for load in loads:
            load.status = st.LOAD_LOST
            outbox.enqueue(session, names.LOADING_PLACE, endpoint_id=str(load.endpoint_id))
        session.flush()
        _idle_if_unserved(session, {load.model_id for load in loads})
        return len(loads)
