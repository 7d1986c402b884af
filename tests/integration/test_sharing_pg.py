"""The seed's "Model Sharing" document, rule by rule and its error table row by row, on PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from support.sharing import add_model, new_project, project_of, wait_for
from xerotier.catalog.endpoints import counts as endpoint_counts
from xerotier.catalog.sharing.handlers import set_catalog_role
from xerotier.db.models import Model
from xerotier.domain.tiers import SELF_HOSTED, SHARED_TIER_SLUGS, CatalogRole

pytestmark = pytest.mark.integration
SHARED_TIER = SHARED_TIER_SLUGS[0]


@pytest.fixture
def owner(pg_api, pg_runtime):
    """(client, project id, a ready model id) of the owning project (the pg_api key)."""
    project = project_of(pg_api)
    return pg_api, project, add_model(pg_runtime, project, "llama-owned")


@pytest.fixture
def other(pg_runtime):
    """Headers of another project's key."""
    _, key = new_project(pg_runtime, "other")
    return {"Authorization": f"Bearer {key}"}


def catalog_ids(client, headers=None):
    return [m["id"] for m in client.get("/v1/catalog/models", headers=headers).json()["models"]]


# --- "When you share a model" ------------------------------------------------------------------


def test_sharing_makes_the_model_visible_in_the_public_catalog(owner, other):
    client, _, model_id = owner
    assert model_id not in catalog_ids(client, other)
    shared = client.post(f"/v1/models/{model_id}/share")
    assert shared.status_code == 200, shared.text
    assert shared.json()["isShared"] is True
    assert catalog_ids(client, other) == [model_id]
    entry = client.get(f"/v1/catalog/models/{model_id}", headers=other).json()
    assert entry["name"] == "llama-owned" and entry["architecture"] == "llama"


def test_sharing_exposes_the_manifest_only_not_the_weights_location(owner, other, pg_runtime):
    client, _, model_id = owner
    client.post(f"/v1/models/{model_id}/share")
    body = client.get(f"/v1/catalog/models/{model_id}", headers=other).text
    assert "blob" not in body.lower() and "sha256" not in body.lower()
    assert str(pg_runtime.settings.resolved_blob_dir) not in body
    assert client.get(f"/v1/models/{model_id}/files", headers=other).status_code == 404


def test_other_users_can_discover_and_create_endpoints_against_it(owner, other):
    client, _, model_id = owner
    client.post(f"/v1/models/{model_id}/share")
    found = client.get("/v1/catalog/models", params={"q": "LLAMA-own"}, headers=other).json()["models"]
    assert [m["id"] for m in found] == [model_id]
    made = client.post("/v1/endpoints", json={"modelId": model_id, "tier": SELF_HOSTED}, headers=other)
    assert made.status_code == 201, made.text
    assert made.json()["modelId"] == model_id and made.json()["modelName"] == "llama-owned"


def test_you_retain_ownership_and_can_unshare_at_any_time(owner, other):
    client, _, model_id = owner
    client.post(f"/v1/models/{model_id}/share")
    client.post("/v1/endpoints", json={"modelId": model_id, "tier": SELF_HOSTED}, headers=other)
    assert client.post(f"/v1/models/{model_id}/unshare", headers=other).status_code == 404
    assert client.get(f"/v1/models/{model_id}", headers=other).status_code == 404
    gone = client.post(f"/v1/models/{model_id}/unshare")
    assert gone.status_code == 200 and gone.json()["isShared"] is False
    assert model_id not in catalog_ids(client, other)
    assert client.get(f"/v1/models/{model_id}").json()["projectId"] == owner[1]


def test_unshare_keeps_provisioned_endpoints_and_removes_the_catalog_footprint(owner, other, pg_runtime):
    client, project, model_id = owner
    client.post(f"/v1/models/{model_id}/share")
    set_catalog_role(pg_runtime, uuid.UUID(model_id), CatalogRole.SHARED, featured=True)
    made = client.post("/v1/endpoints", json={"modelId": model_id, "tier": SHARED_TIER}, headers=other)
    assert made.status_code == 201, made.text
    endpoint_counts.endpoint_changed(pg_runtime, project, "llama-owned")
    before = client.get(f"/v1/catalog/models/{model_id}", headers=other).json()
    assert (before["deploymentCount"], before["featured"], before["catalogRole"]) == (1, True, "shared")

    after = client.post(f"/v1/models/{model_id}/unshare").json()
    assert (after["deploymentCount"], after["featured"], after["catalogRole"]) == (0, False, None)
    served = client.get(f"/v1/endpoints/{made.json()['id']}", headers=other)
    assert served.status_code == 200 and served.json()["modelId"] == model_id
    again = client.post("/v1/endpoints", json={"modelId": model_id, "tier": SHARED_TIER}, headers=other)
    assert again.status_code == 404
    assert again.json()["error"]["message"] == "Model not found"


# --- "Catalog Roles" -----------------------------------------------------------------------------


def test_a_freshly_shared_model_always_starts_at_deployable(owner, pg_runtime):
    client, _, model_id = owner
    assert client.post(f"/v1/models/{model_id}/share").json()["catalogRole"] == "deployable"
    client.post(f"/v1/models/{model_id}/unshare")
    assert client.post(f"/v1/models/{model_id}/share").json()["catalogRole"] == "deployable"


def test_deployable_is_selectable_only_from_self_hosted(owner, other):
    client, _, model_id = owner
    client.post(f"/v1/models/{model_id}/share")
    for tier in SHARED_TIER_SLUGS:
        refused = client.post("/v1/endpoints", json={"modelId": model_id, "tier": tier}, headers=other)
        assert refused.status_code == 403
        assert refused.json()["error"]["message"].startswith(
            f"Tier '{tier}' requires a model with catalog role 'shared'"
        )
    ok = client.post("/v1/endpoints", json={"modelId": model_id, "tier": SELF_HOSTED}, headers=other)
    assert ok.status_code == 201


def test_shared_is_selectable_from_every_tier(owner, other, pg_runtime):
    client, _, model_id = owner
    client.post(f"/v1/models/{model_id}/share")
    set_catalog_role(pg_runtime, uuid.UUID(model_id), CatalogRole.SHARED)
    tiers = [t["slug"] for t in client.get("/v1/tiers", headers=other).json()["tiers"]]
    for tier in tiers:
        made = client.post("/v1/endpoints", json={"modelId": model_id, "tier": tier}, headers=other)
        assert made.status_code == 201, made.text
        assert made.json()["tier"] == tier


def test_demotion_to_deployable_is_automatic_when_shared_tier_endpoints_drop_to_zero(
    owner, other, pg_runtime, pg_worker
):
    client, _, model_id = owner
    client.post(f"/v1/models/{model_id}/share")
    set_catalog_role(pg_runtime, uuid.UUID(model_id), CatalogRole.SHARED)
    made = [
        client.post("/v1/endpoints", json={"modelId": model_id, "tier": t}, headers=other).json()["id"]
        for t in (SHARED_TIER, SHARED_TIER_SLUGS[-1], SELF_HOSTED)
    ]
    wait_for(lambda: catalog_entry(client, model_id, other)["deploymentCount"] == 3)
    client.delete(f"/v1/endpoints/{made[0]}", headers=other)
    wait_for(lambda: catalog_entry(client, model_id, other)["deploymentCount"] == 2)
    assert catalog_entry(client, model_id, other)["catalogRole"] == "shared"  # one shared tier left
    client.delete(f"/v1/endpoints/{made[1]}", headers=other)
    wait_for(lambda: catalog_entry(client, model_id, other)["catalogRole"] == "deployable")
    assert catalog_entry(client, model_id, other)["deploymentCount"] == 1  # the self-hosted one


def test_no_code_path_assigns_shared(owner, other, pg_runtime, pg_worker):
    client, _, model_id = owner
    client.post(f"/v1/models/{model_id}/share")
    made = client.post("/v1/endpoints", json={"modelId": model_id, "tier": SELF_HOSTED}, headers=other)
    assert made.status_code == 201
    wait_for(lambda: catalog_entry(client, model_id, other)["deploymentCount"] == 1)
    assert catalog_entry(client, model_id, other)["catalogRole"] == "deployable"
    with pg_runtime.session_factory() as session:
        roles = set(session.scalars(select(Model.catalog_role)))
    assert "shared" not in roles


# --- "Error Responses" ---------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["share", "unshare"])
def test_401_authentication_required(owner, action):
    client, _, model_id = owner
    for headers in ({"Authorization": ""}, {"Authorization": "Bearer nope"}):
        response = client.post(f"/v1/models/{model_id}/{action}", headers=headers)
        assert response.status_code == 401
        assert response.json() == {
            "error": {"message": "Authentication required", "type": "authentication_error", "code": None}
        }


@pytest.mark.parametrize("action", ["share", "unshare"])
def test_400_invalid_model_id(pg_api, action):
    response = pg_api.post(f"/v1/models/not-a-uuid@/{action}")
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Invalid model ID"


def test_400_share_of_a_missing_or_foreign_model_reads_the_same(owner, pg_runtime, other):
    client, _, _ = owner
    foreign_project, _ = new_project(pg_runtime, "third")
    foreign = add_model(pg_runtime, foreign_project, "theirs")
    missing = client.post(f"/v1/models/{uuid.uuid4()}/share")
    theirs = client.post(f"/v1/models/{foreign}/share")
    assert missing.status_code == theirs.status_code == 400
    assert missing.json() == theirs.json()
    message = missing.json()["error"]["message"]
    assert message == "Model not found or not owned by this project"
    assert "select" not in message.lower() and "models" not in message


@pytest.mark.parametrize("status", ["uploading", "validating", "error"])
def test_400_share_of_a_model_not_ready_or_active(pg_api, pg_runtime, status):
    model_id = add_model(pg_runtime, project_of(pg_api), f"m-{status}", status=status)
    response = pg_api.post(f"/v1/models/{model_id}/share")
    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        f"Model is {status}; only a model in ready or active status can be shared"
    )


def test_share_of_an_active_model_is_allowed(pg_api, pg_runtime):
    model_id = add_model(pg_runtime, project_of(pg_api), "busy", status="active")
    assert pg_api.post(f"/v1/models/{model_id}/share").status_code == 200


def test_404_unshare_of_a_missing_or_foreign_model(owner, other, pg_runtime):
    client, _, model_id = owner
    client.post(f"/v1/models/{model_id}/share")
    for response in (
        client.post(f"/v1/models/{uuid.uuid4()}/unshare"),
        client.post(f"/v1/models/{model_id}/unshare", headers=other),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["message"] == "Model not found or not shared"
    assert catalog_entry(client, model_id, other)["isShared"] is True


# --- helpers -----------------------------------------------------------------------------------


def catalog_entry(client, model_id, headers):
    return client.get(f"/v1/catalog/models/{model_id}", headers=headers).json()
