"""Listing and revoking keys on PostgreSQL: by id or shown prefix, only within the named project."""

from __future__ import annotations

import pytest

from support.sharing import new_project
from xerotier.db.api_keys import list_keys, revoke_key
from xerotier.errors import NotFound

pytestmark = pytest.mark.integration


def test_revoke_by_shown_prefix_only_inside_the_project(pg_api, pg_runtime):
    new_project(pg_runtime, "alpha")
    _, beta_key = new_project(pg_runtime, "beta")
    with pg_runtime.unit_of_work() as session:
        (alpha,) = list_keys(session, "alpha")
        (beta,) = list_keys(session, "beta")
        with pytest.raises(NotFound, match="No key"):
            revoke_key(session, "alpha", beta.prefix)  # another project's key is not found
        with pytest.raises(NotFound, match="No key"):
            revoke_key(session, "alpha", "xero_alpha_short")
        with pytest.raises(NotFound, match="Project 'gamma' not found"):
            list_keys(session, "gamma")
        revoked = revoke_key(session, "alpha", alpha.prefix)
        again = revoke_key(session, "alpha", alpha.id)
    assert revoked.revoked_at is not None and again.revoked_at == revoked.revoked_at
    assert pg_api.get("/v1/tiers", headers={"Authorization": f"Bearer {beta_key}"}).status_code == 200
    with pg_runtime.session_factory() as session:
        assert list_keys(session, "beta")[0].revoked_at is None


def test_revoke_by_the_full_key(pg_api, pg_runtime):
    _, key = new_project(pg_runtime, "delta")
    with pg_runtime.unit_of_work() as session:
        revoke_key(session, "delta", key)
    assert pg_api.get("/v1/tiers", headers={"Authorization": f"Bearer {key}"}).status_code == 401
