"""Loading use cases: place a load, record an acknowledgment, unload, re-place after backend death."""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xerotier.db.backends import dead_backends, heartbeat, register_backend
from xerotier.db.endpoint_transitions import move_endpoint
from xerotier.db.models import Backend, Endpoint, Load, Model, ModelFile
from xerotier.db.transitions import apply_transition
from xerotier.domain.inventory import Inventory
from xerotier.domain.lifecycle import SERVABLE, LifecycleEvent, ModelStatus
from xerotier.domain.rollout import (
    WAITING_STATUSES,
    EndpointEvent,
    EndpointStatus,
    IllegalEndpointTransition,
    is_serving,
)
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


def _agent_load_message(session: Session, load: Load, model: Model) -> dict[str, Any]:
    """Everything the agent needs to load, in the message: it reads no registry row."""
    files = session.scalars(select(ModelFile).where(ModelFile.model_id == model.id).order_by(ModelFile.path))
    return {
        "load_id": str(load.id),
        "model_id": str(model.id),  # a remote agent downloads through the registry's API by it
        "plan": load.plan,
        "served_name": f"{model.name}:{model.version}",
        "files": [{"path": f.path, "sha256": f.sha256, "sizeBytes": f.size_bytes} for f in files],
    }


def _send_load(session: Session, load: Load, model: Model) -> None:
    assert load.backend_id is not None
    outbox.enqueue(
        session,
        names.AGENT_LOAD,
        queue=names.gpu_queue(load.backend_id),
        **_agent_load_message(session, load, model),
    )


def _move(session: Session, endpoint: Endpoint, event: EndpointEvent, reason: str | None, **kw: Any) -> bool:
    """Move the endpoint (locked by the caller) by ``event``; False when it is not legal now."""
    try:
        return move_endpoint(session, endpoint.id, endpoint.status, event, reason=reason, **kw)
    except IllegalEndpointTransition:
        log.info("endpoint %s: %s ignored in status %s", endpoint.id, event.value, endpoint.status)
        return False


def place(runtime: Runtime, endpoint_id: uuid.UUID) -> str:
    """Load the version the endpoint follows (the latest) on a compatible backend.

    An endpoint that serves an older version keeps serving it while the new one loads beside it
    (``rolling``); the switch happens on the new load's acknowledgment (``record_ack``). A new
    version that cannot be placed leaves the old one serving, with the reason (``rollout_failed``).
    """
    dead_after = timedelta(seconds=runtime.settings.backend_dead_after_seconds)
    with runtime.unit_of_work() as session:
        endpoint = session.get(Endpoint, endpoint_id, with_for_update=True)
        if endpoint is None or endpoint.deleted_at is not None:
            return "gone"
        serving = is_serving(endpoint.status)
        model = resolve_model(session, endpoint)
        if model is None:
            if serving:
                return "no newer servable version"
            _move(session, endpoint, EndpointEvent.NO_FIT, "The model has no ready version")
            return st.ENDPOINT_FAILED
        if serving and endpoint.serving_model_id == model.id:
            # it already serves the version it follows (e.g. rolled back meanwhile): drop the roll-out
            stopped = _stop_loads(
                session, (Load.endpoint_id == endpoint.id) & (Load.id != endpoint.serving_load_id)
            )
            if endpoint.status != EndpointStatus.SERVING:
                _move(
                    session,
                    endpoint,
                    EndpointEvent.CANCEL,
                    f"serving {model.name} {model.version}",
                    values={"target_model_id": None},
                )
            session.flush()
            _idle_if_unserved(session, {row.model_id for row in stopped})
            return "already serving"
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
            reason = f"Cannot plan the load of {model.name} {model.version}: {exc.message}"
            return _refuse(session, endpoint, model, reason)
        used, counts = _live_loads(session)
        backends = fleet(session)
        chosen = rank_backends(shape, backends, used, counts, dead_after, datetime.now(UTC))
        endpoint.resolved_model_id = model.id
        if chosen.backend_id is None or chosen.plan is None:
            log.info("endpoint %s: %s", endpoint.id, chosen.reason)
            return _refuse(session, endpoint, model, chosen.reason)
        # a roll-out to a version that is no longer followed is superseded by this one
        superseded = _stop_loads(
            session,
            (Load.endpoint_id == endpoint.id)
            & (Load.model_id != model.id)
            & (Load.status == st.LOAD_LOADING),
        )
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
        session.flush()
        if serving:
            current = session.get(Model, endpoint.serving_model_id) if endpoint.serving_model_id else None
            old = f"{current.version}" if current is not None else "the current version"
            reason = f"rolling to {model.version} ({chosen.reason}); {old} keeps serving"
            _move(session, endpoint, EndpointEvent.ROLL, reason, values={"target_model_id": model.id})
        else:
            _move(session, endpoint, EndpointEvent.PLACE, chosen.reason, values={"target_model_id": model.id})
        _send_load(session, load, model)
        _idle_if_unserved(session, {row.model_id for row in superseded})
        return f"placed on {chosen.backend_id}"


def _refuse(session: Session, endpoint: Endpoint, model: Model, reason: str) -> str:
    """No load can be placed: a serving endpoint keeps serving (``rollout_failed``), else ``failed``."""
    if is_serving(endpoint.status):
        _move(
            session,
            endpoint,
            EndpointEvent.ROLL_FAILED,
            f"Cannot roll to {model.version}: {reason}",
            values={"target_model_id": model.id},
        )
        return EndpointStatus.ROLLOUT_FAILED.value
    _move(session, endpoint, EndpointEvent.NO_FIT, reason, values={"target_model_id": model.id})
    return st.ENDPOINT_FAILED


def record_ack(runtime: Runtime, load_id: uuid.UUID, ack: dict[str, Any]) -> str:
    """Record an agent's acknowledgment; the endpoint switches to the load it was waiting for.

    The switch is one compare-and-set (status and target unchanged since the endpoint was read),
    with its event row and the unload of the replaced loads in the same transaction. A failed
    roll-out leaves the served version serving, with the reason.
    """
    with runtime.unit_of_work() as session:
        load = session.get(Load, load_id, with_for_update=True)
        if load is None:
            return "ignored"
        if load.status != st.LOAD_LOADING:
            if ack.get("ok") and load.status == st.LOAD_UNLOADED and load.backend_id is not None:
                # unloaded while it was loading: the agent started an engine nobody needs
                outbox.enqueue(
                    session, names.AGENT_UNLOAD, queue=names.gpu_queue(load.backend_id), load_id=str(load.id)
                )
            return "ignored"  # duplicate, late, or unloaded meanwhile
        load.ack = ack
        load.acked_at = datetime.now(UTC)
        endpoint = session.get(Endpoint, load.endpoint_id, with_for_update=True)
        model = session.get(Model, load.model_id)
        wanted = (
            endpoint is not None and endpoint.deleted_at is None and endpoint.target_model_id == load.model_id
        )
        if not ack.get("ok"):
            load.status = st.LOAD_FAILED
            if endpoint is not None and wanted:
                error = f"Load failed on {load.backend_id}: {ack.get('error', 'unknown error')}"
                if is_serving(endpoint.status):
                    version = model.version if model is not None else str(load.model_id)
                    _move(session, endpoint, EndpointEvent.ROLL_FAILED, f"Cannot roll to {version}: {error}")
                else:
                    _move(session, endpoint, EndpointEvent.LOAD_FAILED, error)
            return st.LOAD_FAILED
        load.status = st.LOAD_LOADED
        if endpoint is None or not wanted:
            stopped = _stop_loads(session, Load.id == load.id)  # superseded while it loaded
            session.flush()
            _idle_if_unserved(session, {row.model_id for row in stopped})
            return "superseded"
        version = model.version if model is not None else str(load.model_id)
        switched = _move(
            session,
            endpoint,
            EndpointEvent.SWITCH,
            f"serving {version} on {load.backend_id}",
            values={"serving_model_id": load.model_id, "serving_load_id": load.id, "target_model_id": None},
            expect_target=load.model_id,
        )
        if not switched:
            return "ignored"
        if model is not None and model.status == ModelStatus.READY:
            apply_transition(
                session,
                model.id,
                ModelStatus.READY,
                LifecycleEvent.SERVE,
                reason=f"serving on {load.backend_id}",
            )
        # the loads it replaced drain (the router sends them nothing new) and are unloaded
        replaced = _stop_loads(session, (Load.endpoint_id == load.endpoint_id) & (Load.id != load.id))
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
        endpoint = session.get(Endpoint, endpoint_id)
        if endpoint is not None and endpoint.deleted_at is not None:
            endpoint.serving_model_id = endpoint.serving_load_id = endpoint.target_model_id = None
        session.flush()
        _idle_if_unserved(session, {row.model_id for row in stopped})
        return len(stopped)


def follow_latest(runtime: Runtime, model_project_id: str, model_name: str) -> int:
    """The latest version of a name moved (promote, rollback, first ready): roll every endpoint."""
    with runtime.session_factory() as session:
        ids = list(
            session.scalars(
                select(Endpoint.id).where(
                    Endpoint.model_project_id == model_project_id,
                    Endpoint.model_name == model_name,
                    Endpoint.deleted_at.is_(None),
                )
            )
        )
    for endpoint_id in ids:
        place(runtime, endpoint_id)
    return len(ids)


def unload_idle(runtime: Runtime, idle_seconds: float, now: datetime | None = None) -> int:
    """Scale to zero: unload endpoints without a request for ``idle_seconds`` (``active → ready``)."""
    cutoff = (now or datetime.now(UTC)) - timedelta(seconds=idle_seconds)
    idled = 0
    with runtime.unit_of_work() as session:
        quiet = list(
            session.scalars(
                select(Endpoint)
                .join(Load, Load.id == Endpoint.serving_load_id)
                .where(
                    Endpoint.deleted_at.is_(None),
                    Endpoint.status.in_([EndpointStatus.SERVING.value, EndpointStatus.ROLLOUT_FAILED.value]),
                    func.coalesce(Endpoint.last_request_at, Load.acked_at) < cutoff,
                )
                .with_for_update(of=Endpoint)
            )
        )
        for endpoint in quiet:
            reason = f"unloaded after {idle_seconds:g} s without a request; the next request loads it"
            moved = _move(
                session,
                endpoint,
                EndpointEvent.IDLE,
                reason,
                values={"serving_model_id": None, "serving_load_id": None, "target_model_id": None},
            )
            if moved:
                stopped = _stop_loads(session, Load.endpoint_id == endpoint.id)
                session.flush()
                _idle_if_unserved(session, {row.model_id for row in stopped})
                idled += 1
    return idled


def register_backend_task(
    runtime: Runtime,
    backend_id: str,
    inventory: dict[str, Any],
    source: str,
    options: dict[str, Any],
    *,
    place_waiting: bool,
) -> bool:
    """An agent's registration or heartbeat: record the backend (the agent writes no row itself).

    A registration (or a heartbeat that finds no row: the backend was forgotten) asks loading to
    place the endpoints that wait for a backend. Returns whether the backend was (re)registered.
    """
    with runtime.unit_of_work() as session:
        known = session.get(Backend, backend_id) is not None
        if known and not place_waiting:
            heartbeat(session, backend_id)
            return False
        register_backend(session, backend_id, inventory, source, options)
        waiting = session.scalars(
            select(Endpoint.id).where(
                Endpoint.deleted_at.is_(None),
                Endpoint.status.in_([s.value for s in WAITING_STATUSES]),
            )
        )
        for endpoint_id in waiting:
            outbox.enqueue(session, names.LOADING_PLACE, endpoint_id=str(endpoint_id))
        return True


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
            endpoint = session.get(Endpoint, load.endpoint_id, with_for_update=True)
            if endpoint is not None and endpoint.serving_load_id == load.id:
                _move(
                    session,
                    endpoint,
                    EndpointEvent.LOST,
                    f"backend {load.backend_id} missed its heartbeats; placing again",
                    values={"serving_model_id": None, "serving_load_id": None},
                )
            elif endpoint is not None and endpoint.status == EndpointStatus.LOADING:
                _move(session, endpoint, EndpointEvent.LOST, f"backend {load.backend_id} died while loading")
            outbox.enqueue(session, names.LOADING_PLACE, endpoint_id=str(load.endpoint_id))
        session.flush()
        _idle_if_unserved(session, {load.model_id for load in loads})
        return len(loads)
