"""Choosing a backend for a load (pure): compatible first, no runtime quantization, least loaded."""

from __future__ import annotations

from dataclasses import dataclass, replace

from xerotier.domain.inventory import Inventory
from xerotier.loading.planner import LoadPlan


@dataclass(frozen=True)
class Candidate:
    backend_id: str
    alive: bool
    load_count: int
    plan: LoadPlan | None  # None when not planned: dead, or too small for any weights


@dataclass(frozen=True)
class Placement:
    backend_id: str | None
    plan: LoadPlan | None
    reason: str  # why this backend, or why none


def remaining(inventory: Inventory, used_bytes: int) -> Inventory:
    """The inventory with the memory already promised to loads taken out of each device's free."""
    if used_bytes <= 0:
        return inventory
    share = used_bytes // len(inventory.gpus)
    gpus = tuple(
        replace(g, free_bytes=max(0, min(g.free_bytes or g.memory_bytes, g.memory_bytes - share)))
        for g in inventory.gpus
    )
    return Inventory(inventory.device, gpus)


def choose(candidates: list[Candidate]) -> Placement:
    """The best compatible backend, or none with the reason of each refusal."""
    fitting = [c for c in candidates if c.alive and c.plan is not None and c.plan.fits]
    if fitting:
        best = min(
            fitting,
            key=lambda c: (c.plan.quantization_reason == "runtime_quantization", c.load_count, c.backend_id),  # type: ignore[union-attr]
        )
        plan = best.plan
        assert plan is not None
        how = plan.applied_quantization or "native precision"
        return Placement(
            best.backend_id,
            plan,
            f"placed on {best.backend_id} ({plan.quantization_reason}, {how}, "
            f"{best.load_count} other load(s))",
        )
    if not candidates:
        return Placement(None, None, "No compatible backend: no backend is registered")
    if not any(c.alive for c in candidates):
        return Placement(
            None, None, f"No compatible backend: none of the {len(candidates)} backend(s) is alive"
        )
    refusals = []
    for c in sorted(candidates, key=lambda c: c.backend_id)[:10]:
        if not c.alive:
            refusals.append(f"{c.backend_id}: not alive (missed heartbeats)")
        elif c.plan is not None:
            why = c.plan.reasons[-1] if c.plan.reasons else "does not fit"
            refusals.append(f"{c.backend_id}: cannot_fit ({why})")
    more = f"; and {len(candidates) - 10} more" if len(candidates) > 10 else ""
    return Placement(None, None, "No compatible backend: " + "; ".join(refusals) + more)
