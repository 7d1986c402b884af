"""Tiers and catalog roles: which tier may select which role; when demotion is due."""

from __future__ import annotations

import pytest

from xerotier.domain import tiers
from xerotier.errors import Forbidden, InvalidInput


def test_self_hosted_and_at_least_two_shared_tiers():
    assert tiers.SELF_HOSTED in tiers.TIER_SLUGS
    assert len(tiers.SHARED_TIER_SLUGS) >= 2
    assert tiers.SELF_HOSTED not in tiers.SHARED_TIER_SLUGS
    assert len(set(tiers.TIER_SLUGS)) == len(tiers.TIER_SLUGS)


def test_deployable_is_selectable_only_from_self_hosted():
    assert tiers.allowed_tiers("deployable") == (tiers.SELF_HOSTED,)
    tiers.check_tier_allows("deployable", tiers.SELF_HOSTED)
    for slug in tiers.SHARED_TIER_SLUGS:
        with pytest.raises(Forbidden, match="requires a model with catalog role 'shared'"):
            tiers.check_tier_allows("deployable", slug)


def test_shared_is_selectable_from_every_tier():
    assert tiers.allowed_tiers("shared") == tiers.TIER_SLUGS
    for slug in tiers.TIER_SLUGS:
        tiers.check_tier_allows("shared", slug)


def test_a_model_without_role_is_gated_like_deployable():
    tiers.check_tier_allows(None, tiers.SELF_HOSTED)
    with pytest.raises(Forbidden, match="not shared"):
        tiers.check_tier_allows(None, tiers.SHARED_TIER_SLUGS[0])


def test_unknown_tier_and_role_are_invalid_input_naming_the_choices():
    with pytest.raises(InvalidInput, match="Unknown tier 'gold'; choose from self_hosted"):
        tiers.check_tier_allows("shared", "gold")
    with pytest.raises(InvalidInput, match="Unknown catalog role 'owner'"):
        tiers.parse_role("owner")
    assert tiers.parse_role("shared") is tiers.CatalogRole.SHARED


@pytest.mark.parametrize(
    ("role", "count", "due"),
    [("shared", 0, True), ("shared", 1, False), ("deployable", 0, False), (None, 0, False)],
)
def test_demotion_is_due_only_for_shared_with_no_shared_tier_endpoint(role, count, due):
    assert tiers.demotion_due(role, count) is due
