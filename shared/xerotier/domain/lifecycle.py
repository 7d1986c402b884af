"""The model lifecycle: statuses, the events that move between them, and their deadlines.

    uploading ──complete──▶ validating ──passed──▶ ready ◀──serve/idle──▶ active
        │                      │   ▲                 │
     expire                 failed └──revalidate─────┘ (also from error)
        ▼                      ▼
      error ◀──────────────────┘

Pure: no database, queue or HTTP. The database applies a transition as a compare-and-set
(``UPDATE … WHERE status = :from``), so a duplicate or late event changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from xerotier.errors import IllegalTransition


class ModelStatus(StrEnum):
    UPLOADING = "uploading"
    VALIDATING = "validating"
    READY = "ready"
    ERROR = "error"
    ACTIVE = "active"


class LifecycleEvent(StrEnum):
    COMPLETE = "complete"  # the client finished uploading
    VALIDATION_PASSED = "validation_passed"
    VALIDATION_FAILED = "validation_failed"
    REVALIDATE = "revalidate"
    SERVE = "serve"  # first endpoint serves the model
    IDLE = "idle"  # last endpoint stopped serving it
    EXPIRE = "expire"  # a deadline passed too many times (the reconciler gives up)


S, E = ModelStatus, LifecycleEvent

TRANSITIONS: dict[tuple[ModelStatus, LifecycleEvent], ModelStatus] = {
    (S.UPLOADING, E.COMPLETE): S.VALIDATING,
    (S.UPLOADING, E.EXPIRE): S.ERROR,
    (S.VALIDATING, E.VALIDATION_PASSED): S.READY,
    (S.VALIDATING, E.VALIDATION_FAILED): S.ERROR,
    (S.VALIDATING, E.EXPIRE): S.ERROR,
    (S.READY, E.REVALIDATE): S.VALIDATING,
    (S.ERROR, E.REVALIDATE): S.VALIDATING,
    (S.READY, E.SERVE): S.ACTIVE,
    (S.ACTIVE, E.IDLE): S.READY,
}

#: Statuses that wait on work in flight; each has a deadline the reconciler enforces.
IN_FLIGHT: frozenset[ModelStatus] = frozenset({S.UPLOADING, S.VALIDATING})
#: Statuses a model may rest in indefinitely.
SETTLED: frozenset[ModelStatus] = frozenset({S.READY, S.ERROR, S.ACTIVE})
#: Statuses whose files may be served (shared, assigned to endpoints, loaded).
SERVABLE: frozenset[ModelStatus] = frozenset({S.READY, S.ACTIVE})


@dataclass(frozen=True)
class Transition:
    source: ModelStatus
    event: LifecycleEvent
    target: ModelStatus


def plan_transition(current: ModelStatus | str, event: LifecycleEvent | str) -> Transition:
    """The transition ``event`` causes from ``current``, or ``IllegalTransition`` with a clear reason."""
    source, ev = ModelStatus(current), LifecycleEvent(event)
    target = TRANSITIONS.get((source, ev))
    if target is None:
        allowed = sorted(e.value for (s, e) in TRANSITIONS if s is source)
        hint = f"; allowed from {source.value}: {', '.join(allowed)}" if allowed else ""
        raise IllegalTransition(f"Cannot {ev.value.replace('_', ' ')} a model that is {source.value}{hint}")
    return Transition(source, ev, target)


def sources_of(event: LifecycleEvent) -> frozenset[ModelStatus]:
    """Every status from which ``event`` is legal."""
    return frozenset(s for (s, e) in TRANSITIONS if e is event)
