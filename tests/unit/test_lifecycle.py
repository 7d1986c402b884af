import pytest

from xerotier.domain.lifecycle import (
    IN_FLIGHT,
    TRANSITIONS,
    LifecycleEvent,
    ModelStatus,
    plan_transition,
    sources_of,
)
from xerotier.errors import IllegalTransition

S, E = ModelStatus, LifecycleEvent


@pytest.mark.parametrize(
    ("source", "event", "target"),
    [
        (S.UPLOADING, E.COMPLETE, S.VALIDATING),
        (S.VALIDATING, E.VALIDATION_PASSED, S.READY),
        (S.VALIDATING, E.VALIDATION_FAILED, S.ERROR),
        (S.READY, E.REVALIDATE, S.VALIDATING),
        (S.ERROR, E.REVALIDATE, S.VALIDATING),
        (S.READY, E.SERVE, S.ACTIVE),
        (S.ACTIVE, E.IDLE, S.READY),
        (S.VALIDATING, E.EXPIRE, S.ERROR),
        (S.UPLOADING, E.EXPIRE, S.ERROR),
    ],
)
def test_legal_transitions(source, event, target):
    assert plan_transition(source, event).target is target


@pytest.mark.parametrize(
    ("source", "event"),
    [
        (S.UPLOADING, E.VALIDATION_PASSED),  # cannot skip validation
        (S.READY, E.COMPLETE),  # a second complete is not a new upload
        (S.VALIDATING, E.REVALIDATE),  # already validating
        (S.ERROR, E.SERVE),  # a broken model is never served
        (S.ACTIVE, E.REVALIDATE),  # a serving model keeps its files
        (S.READY, E.EXPIRE),  # settled statuses have no deadline
    ],
)
def test_illegal_transitions_name_the_status(source, event):
    with pytest.raises(IllegalTransition) as err:
        plan_transition(source, event)
    assert source.value in err.value.message


def test_every_in_flight_status_can_reach_error_so_nothing_is_stranded():
    for status in IN_FLIGHT:
        assert TRANSITIONS[(status, E.EXPIRE)] is S.ERROR


def test_only_servable_models_start_serving():
    assert sources_of(E.SERVE) == {S.READY}


def test_strings_are_accepted_like_enums():
    assert plan_transition("uploading", "complete").target is S.VALIDATING
