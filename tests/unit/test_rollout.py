"""The endpoint serving state machine (pure): legal moves, and the diagram agrees with the table."""

from __future__ import annotations

import pytest

from xerotier.domain import rollout
from xerotier.domain.rollout import (
    SERVING_STATUSES,
    EndpointEvent,
    EndpointStatus,
    IllegalEndpointTransition,
    plan_endpoint_transition,
)

S, E = EndpointStatus, EndpointEvent


@pytest.mark.parametrize(
    ("source", "event", "target"),
    [
        (S.PENDING, E.PLACE, S.LOADING),
        (S.LOADING, E.SWITCH, S.SERVING),
        (S.SERVING, E.ROLL, S.ROLLING),
        (S.ROLLING, E.SWITCH, S.SERVING),
        (S.ROLLING, E.ROLL_FAILED, S.ROLLOUT_FAILED),
        (S.ROLLOUT_FAILED, E.ROLL, S.ROLLING),
        (S.ROLLOUT_FAILED, E.CANCEL, S.SERVING),
        (S.SERVING, E.IDLE, S.IDLE),
        (S.IDLE, E.PLACE, S.LOADING),
        (S.LOADING, E.LOAD_FAILED, S.FAILED),
        (S.FAILED, E.PLACE, S.LOADING),
        (S.SERVING, E.LOST, S.LOADING),
    ],
)
def test_legal_moves(source, event, target):
    assert plan_endpoint_transition(source, event).target is target


@pytest.mark.parametrize(
    ("source", "event"),
    [
        (S.PENDING, E.SWITCH),  # nothing was loaded
        (S.SERVING, E.LOAD_FAILED),  # a failed new version never takes the served one down
        (S.ROLLING, E.IDLE),  # never unloaded in the middle of a roll-out
        (S.DELETED, E.PLACE),
        (S.SERVING, E.PLACE),  # a serving endpoint rolls; it is not placed from scratch
    ],
)
def test_illegal_moves(source, event):
    with pytest.raises(IllegalEndpointTransition):
        plan_endpoint_transition(source, event)


def test_an_unknown_status_is_refused():
    with pytest.raises(IllegalEndpointTransition):
        plan_endpoint_transition("bogus", E.PLACE)


def test_a_failed_new_version_keeps_the_endpoint_serving():
    """Every move out of a serving status by a failure lands in a serving status."""
    for source in SERVING_STATUSES:
        assert plan_endpoint_transition(source, E.ROLL_FAILED).target in SERVING_STATUSES


def test_every_status_and_event_appears_in_the_diagram():
    doc = rollout.__doc__ or ""
    for status in S:
        if status is not S.DELETED:
            assert status.value in doc, status
    for event in E:
        assert event.value in doc, event
