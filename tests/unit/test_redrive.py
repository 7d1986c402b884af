from xerotier.domain import redrive
from xerotier.domain.lifecycle import ModelStatus
from xerotier.queue import names
from xerotier.queue.reconciler import REDRIVE_TASKS


def test_validating_is_redriven_until_attempts_run_out():
    first = redrive.decide("validating", attempts=0, max_attempts=3)
    assert isinstance(first, redrive.Redrive) and "attempt 2" in first.reason
    assert REDRIVE_TASKS[ModelStatus.VALIDATING] == names.VALIDATE
    assert isinstance(redrive.decide("validating", attempts=2, max_attempts=3), redrive.Redrive)
    last = redrive.decide("validating", attempts=3, max_attempts=3)
    assert isinstance(last, redrive.GiveUp) and "4 attempts" in last.reason


def test_abandoned_upload_gives_up_at_once():
    assert isinstance(redrive.decide("uploading", 0, 3), redrive.GiveUp)


def test_settled_statuses_are_left_alone():
    for status in ("ready", "error", "active"):
        assert redrive.decide(status, 0, 3) is None
