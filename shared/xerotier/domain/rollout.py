"""The endpoint's serving state machine (pure): what it serves now and what it rolls to.

    pending ──place──▶ loading ──switch──▶ serving ──roll──▶ rolling ──switch──▶ serving
       │                  │                  │  ▲              │
       └─no_fit─▶ failed ◀┘load_failed       │  └─cancel─ rollout_failed ◀─roll_failed┘
                    │                        │                   (the old version still serves)
                    └─place─▶ loading        └─idle─▶ idle ──place──▶ loading

``serving``, ``rolling`` and ``rollout_failed`` are the *serving* statuses: the endpoint has a
loaded version (``serving_model_id``) and answers requests with it. ``rolling`` also has a target
(``target_model_id``) being loaded beside it; only the target's acknowledgment switches it
(``switch``), in one compare-and-set. ``lost``: the backend holding the served load died, so the
endpoint is placed again. Any status can be ``delete``d. Every move is a compare-and-set applied by
``xerotier.db.endpoint_transitions.move_endpoint`` with its event row and its outbox messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class EndpointStatus(StrEnum):
    PENDING = "pending"
    LOADING = "loading"
    SERVING = "serving"
    ROLLING = "rolling"
    ROLLOUT_FAILED = "rollout_failed"
    FAILED = "failed"
    IDLE = "idle"
    DELETED = "deleted"


class EndpointEvent(StrEnum):
    PLACE = "place"  # a first load was sent to a backend
    NO_FIT = "no_fit"  # nothing could be placed (no backend fits, no servable version)
    LOAD_FAILED = "load_failed"  # the agent reported the first load failed
    SWITCH = "switch"  # the target's load acknowledged: it serves now
    ROLL = "roll"  # a new version is being loaded beside the served one
    ROLL_FAILED = "roll_failed"  # the new version failed or cannot fit: the old one keeps serving
    CANCEL = "cancel"  # the endpoint follows the served version again (e.g. rolled back meanwhile)
    IDLE = "idle"  # unloaded after XEROTIER_ENDPOINT_IDLE_SECONDS without a request
    LOST = "lost"  # the served load's backend died: placed again
    DELETE = "delete"


S, E = EndpointStatus, EndpointEvent
SERVING_STATUSES: frozenset[EndpointStatus] = frozenset({S.SERVING, S.ROLLING, S.ROLLOUT_FAILED})
#: Statuses that wait for a backend: a newly registered one may be able to serve them.
WAITING_STATUSES: frozenset[EndpointStatus] = frozenset({S.PENDING, S.FAILED})
_NOT_DELETED = frozenset(S) - {S.DELETED}

TRANSITIONS: dict[EndpointEvent, tuple[frozenset[EndpointStatus], EndpointStatus]] = {
    E.PLACE: (frozenset({S.PENDING, S.FAILED, S.IDLE, S.LOADING}), S.LOADING),
    E.NO_FIT: (frozenset({S.PENDING, S.FAILED, S.IDLE, S.LOADING}), S.FAILED),
    E.LOAD_FAILED: (frozenset({S.LOADING}), S.FAILED),
    E.SWITCH: (frozenset({S.LOADING, S.ROLLING, S.ROLLOUT_FAILED}), S.SERVING),
    E.ROLL: (SERVING_STATUSES, S.ROLLING),
    E.ROLL_FAILED: (SERVING_STATUSES, S.ROLLOUT_FAILED),
    E.CANCEL: (SERVING_STATUSES, S.SERVING),
    E.IDLE: (frozenset({S.SERVING, S.ROLLOUT_FAILED}), S.IDLE),
    E.LOST: (SERVING_STATUSES | {S.LOADING}, S.LOADING),
    E.DELETE: (_NOT_DELETED, S.DELETED),
}


class IllegalEndpointTransition(Exception):
    def __init__(self, current: str, event: EndpointEvent) -> None:
        super().__init__(f"endpoint event {event.value} is not legal from {current}")
        self.current, self.event = current, event


@dataclass(frozen=True)
class EndpointStep:
    source: EndpointStatus
    event: EndpointEvent
    target: EndpointStatus


def plan_endpoint_transition(current: EndpointStatus | str, event: EndpointEvent) -> EndpointStep:
    """The step ``event`` takes from ``current``; raises ``IllegalEndpointTransition`` if none."""
    try:
        source = EndpointStatus(current)
    except ValueError:
        raise IllegalEndpointTransition(str(current), event) from None
    sources, target = TRANSITIONS[event]
    if source not in sources:
        raise IllegalEndpointTransition(source.value, event)
    return EndpointStep(source, event, target)


def is_serving(status: str) -> bool:
    return status in SERVING_STATUSES
