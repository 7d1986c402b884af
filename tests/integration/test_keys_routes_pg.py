"""The project key routes over HTTP on PostgreSQL: list, mint (full key once), revoke, isolation."""

from __future__ import annotations

import pytest

from support.sharing import new_project

pytestmark = pytest.mark.integration


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_mint_list_use_and_revoke_a_key(pg_api):
    minted = pg_api.post("/v1/keys", json={"name": "ci"})
    assert minted.status_code == 201
    body = minted.json()
    full = body["key"]
    assert full.startswith("xero_test_") and body["prefix"].endswith("…")
    assert full.startswith(body["prefix"].rstrip("…")) and body["name"] == "ci"
    assert body["revokedAt"] is None

    listed = pg_api.get("/v1/keys")
    assert listed.status_code == 200
    keys = listed.json()["keys"]
    assert body["id"] in [k["id"] for k in keys] and len(keys) == 2
    assert full not in listed.text  # the secret is never listed
    assert all("key" not in k and "secretHash" not in k for k in keys)

    assert pg_api.get("/v1/tiers", headers=bearer(full)).status_code == 200
    assert pg_api.get("/test/v1/keys", headers=bearer(full)).status_code == 200  # project-scoped base

    revoked = pg_api.delete(f"/v1/keys/{body['id']}")
    assert revoked.status_code == 200 and revoked.json()["revokedAt"] is not None
    assert "key" not in revoked.json()
    again = pg_api.delete(f"/v1/keys/{body['id']}")
    assert again.json()["revokedAt"] == revoked.json()["revokedAt"]  # revoking twice is harmless
    refused = pg_api.get("/v1/tiers", headers=bearer(full))
    assert refused.status_code == 401 and refused.json()["error"]["type"]


def test_a_key_sees_and_revokes_only_its_own_projects_keys(pg_api, pg_runtime):
    _, other_key = new_project(pg_runtime, "other")
    other_keys = pg_api.get("/v1/keys", headers=bearer(other_key)).json()["keys"]
    mine = pg_api.get("/v1/keys").json()["keys"]
    assert {k["id"] for k in other_keys}.isdisjoint({k["id"] for k in mine})
    assert all(k["prefix"].startswith("xero_other_") for k in other_keys)

    answer = pg_api.delete(f"/v1/keys/{other_keys[0]['id']}")  # the test project's key, other's id
    assert answer.status_code == 404 and "No key" in answer.json()["error"]["message"]
    assert pg_api.get("/v1/tiers", headers=bearer(other_key)).status_code == 200
    # The path's project must be the key's own.
    assert pg_api.get("/other/v1/keys").status_code == 404


def test_bad_requests_get_specific_errors(pg_api):
    bad_id = pg_api.delete("/v1/keys/not-a-uuid")
    assert bad_id.status_code == 400 and bad_id.json()["error"]["message"] == "Invalid key ID"
    too_long = pg_api.post("/v1/keys", json={"name": "x" * 201})
    assert too_long.status_code in (400, 422) and "error" in too_long.json()
    unknown_field = pg_api.post("/v1/keys", json={"secret": "mine"})
    assert unknown_field.status_code in (400, 422)
    anonymous = pg_api.post("/v1/keys", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    unnamed = pg_api.post("/v1/keys")
    assert unnamed.status_code == 201 and unnamed.json()["name"] is None


def test_the_dashboard_is_served_with_a_strict_policy(pg_api):
    index = pg_api.get("/ui/")
    assert index.status_code == 200 and index.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in index.headers["content-security-policy"]
    assert '<script type="module" src="/ui/static/app.js">' in index.text
    assert "http://" not in index.text and "https://" not in index.text  # no CDN
    redirect = pg_api.get("/ui", follow_redirects=False)
    assert redirect.status_code == 307 and redirect.headers["location"] == "/ui/"
    module = pg_api.get("/ui/static/app.js")
    assert module.status_code == 200 and "javascript" in module.headers["content-type"]
    assert pg_api.get("/ui/static/../../pyproject.toml").status_code == 404
    assert pg_api.get("/ui/static/nope.js").status_code == 404


def test_no_dashboard_file_loads_anything_from_another_host():
    import re

    from xerotier.dashboard.mount import STATIC_DIR

    external = re.compile(
        r"""(?:src|href)=["']https?:|from\s+["']https?:|import\(["']https?:|url\(["']?https?:"""
    )
    files = sorted(p for p in STATIC_DIR.rglob("*") if p.suffix in {".html", ".js", ".css"})
    assert len(files) >= 10
    for path in files:
        assert not external.search(path.read_text()), path.name
