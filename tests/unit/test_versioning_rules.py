"""Pure versioning rules: identity of versions, ordering, promotion outcomes, rollback direction."""

from __future__ import annotations

import pytest

from xerotier.domain.lifecycle import ModelStatus
from xerotier.domain.versioning import (
    PromotionOutcome,
    is_older,
    newest_first,
    precedence_core,
    promotion_outcome,
)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("1.0.0+a", "1.0.0+b", True),
        ("1.0.0", "1.0.0+build.5", True),
        ("1.0.0-rc.1+x", "1.0.0-rc.1", True),
        ("1.0.0-rc.1", "1.0.0", False),
        ("1.0.0-alpha", "1.0.0-alpha.0", False),
    ],
)
def test_the_same_version_is_the_same_precedence(a, b, same):
    assert (precedence_core(a) == precedence_core(b)) is same


def test_newest_first_orders_by_semver_precedence():
    spec_order = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.2.0",
        "1.10.0",
        "18446744073709551616.0.0",  # 2**64: beyond 64 bits
    ]
    shuffled = spec_order[::2] + spec_order[1::2]
    assert newest_first(shuffled, lambda v: v) == spec_order[::-1]


def test_unparsable_versions_sort_last():
    assert newest_first(["garbage", "1.0.0", "2.0.0"], lambda v: v) == ["2.0.0", "1.0.0", "garbage"]


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (ModelStatus.READY, PromotionOutcome.APPLY),
        (ModelStatus.ACTIVE, PromotionOutcome.APPLY),
        (ModelStatus.UPLOADING, PromotionOutcome.PENDING),
        (ModelStatus.VALIDATING, PromotionOutcome.PENDING),
        (ModelStatus.ERROR, PromotionOutcome.REFUSE),
    ],
)
def test_promotion_outcome_by_status(status, outcome):
    assert promotion_outcome(status) is outcome
    assert promotion_outcome(status.value) is outcome


def test_rollback_direction_uses_precedence():
    assert is_older("1.9.0", "1.10.0")
    assert is_older("2.0.0-rc.1", "2.0.0")
    assert not is_older("2.0.0+b", "2.0.0+a")
    assert not is_older("3.0.0", "2.0.0")
