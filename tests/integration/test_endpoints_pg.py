"""Endpoints on PostgreSQL: tier gating, resolution to the latest version, events, counts, demotion."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select, update

from support.sharing import add_model, new_project, project_of, wait_for
from xerotier.catalog.endpoints import counts as endpoint_counts
from xerotier.catalog.sharing.handlers import set_catalog_role, share_model
from xerotier.db.models import LifecycleEventRow, Model, OutboxMessage
from xerotier.domain.tiers import SELF_HOSTED, SHARED_TIER_SLUGS, CatalogRole
from xerotier.queue import names

pytestmark = pytest.mark.integration
SHARED_TIER = SHARED_TIER_SLUGS[0]


def outbox(runtime, task_name):
    with runtime.session_factory() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.task_name == task_name))
        return [row.kwargs for row in rows]


def model_row(runtime, model_id) -> Model:
    with runtime.session_factory() as session:
        return session.get(Model, uuid.UUID(model_id))


def test_own_private_model_is_selectable_from_self_hosted_only(pg_api, pg_runtime):
    model_id = add_model(pg_runtime, project_of(pg_api), "mine")
    refused = pg_api.post("/v1/endpoints", json={"modelId": model_id, "tier": SHARED_TIER})
    assert refused.status_code == 403
    assert "role is none (not shared)" in refused.json()["error"]["message"]
    made = pg_api.post("/v1/endpoints", json={"modelId": model_id, "tier": SELF_HOSTED})
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["modelId"], body["modelName"], body["tier"], body["status"]) == (
        model_id,
        "mine",
        SELF_HOSTED,
        "pending",
    )


def test_create_and_delete_emit_loading_and_catalog_events(pg_api, pg_runtime):
    project = project_of(pg_api)
    model_id = add_model(pg_runtime, project, "evented")
    endpoint = pg_api.post("/v1/endpoints", json={"modelId": model_id, "tier": SELF_HOSTED}).json()
    assert outbox(pg_runtime, names.LOADING_PLACE) == [{"endpoint_id": endpoint["id"]}]
    changed = {"model_project_id": project, "model_name": "evented"}
    assert outbox(pg_runtime, names.CATALOG_ENDPOINT_CHANGED) == [changed]
    deleted = pg_api.delete(f"/v1/endpoints/{endpoint['id']}")
    assert deleted.status_code == 200 and deleted.json()["status"] == "deleted"
    assert outbox(pg_runtime, names.LOADING_UNLOAD) == [{"endpoint_id": endpoint["id"]}]
    assert outbox(pg_runtime, names.CATALOG_ENDPOINT_CHANGED) == [changed, changed]
    assert pg_api.delete(f"/v1/endpoints/{endpoint['id']}").status_code == 404
    assert pg_api.get(f"/v1/endpoints/{endpoint['id']}").status_code == 404
    assert pg_api.get("/v1/endpoints").json()["endpoints"] == []


def test_an_endpoint_resolves_to_the_latest_version_at_each_resolution(pg_api, pg_runtime):
    project = project_of(pg_api)
    v1 = add_model(pg_runtime, project, "moving")
    endpoint = pg_api.post("/v1/endpoints", json={"modelId": v1, "tier": SELF_HOSTED}).json()
    with pg_runtime.unit_of_work() as session:
        session.execute(update(Model).where(Model.id == uuid.UUID(v1)).values(is_latest=False))
    v2 = add_model(pg_runtime, project, "moving", version="1.1.0", status="validating")
    got = pg_api.get(f"/v1/endpoints/{endpoint['id']}").json()
    assert (got["modelId"], got["version"]) == (v1, "1.0.0")  # the latest is not servable yet
    with pg_runtime.unit_of_work() as session:
        session.execute(update(Model).where(Model.id == uuid.UUID(v2)).values(status="ready"))
    got = pg_api.get(f"/v1/endpoints/{endpoint['id']}").json()
    assert (got["modelId"], got["version"]) == (v2, "1.1.0")
    listed = pg_api.get("/v1/endpoints").json()["endpoints"]
    assert [(e["id"], e["modelId"]) for e in listed] == [(endpoint["id"], v2)]


def test_endpoint_events_drive_the_deployment_count(pg_api, pg_runtime, pg_worker):
    project = project_of(pg_api)
    model_id = add_model(pg_runtime, project, "served")
    pg_api.post(f"/v1/models/{model_id}/share")
    endpoint = pg_api.post("/v1/endpoints", json={"modelId": model_id, "tier": SELF_HOSTED}).json()
    wait_for(lambda: pg_api.get(f"/v1/catalog/models/{model_id}").json()["deploymentCount"] == 1)
    # No agent acknowledged a load: nothing serves the model yet, so it is not active
    # (the loading service owns ready ⇄ active; tests/e2e/test_agent_load.py covers it).
    assert pg_api.get(f"/v1/models/{model_id}").json()["status"] == "ready"
    pg_api.delete(f"/v1/endpoints/{endpoint['id']}")
    wait_for(lambda: pg_api.get(f"/v1/catalog/models/{model_id}").json()["deploymentCount"] == 0)


def test_recount_is_idempotent(pg_api, pg_runtime):
    project = project_of(pg_api)
    model_id = add_model(pg_runtime, project, "twice")
    pg_api.post("/v1/endpoints", json={"modelId": model_id, "tier": SELF_HOSTED})
    first = endpoint_counts.endpoint_changed(pg_runtime, project, "twice")
    second = endpoint_counts.endpoint_changed(pg_runtime, project, "twice")
    assert first == second and first.live_endpoints == 1 and first.serving_model_id == model_id
    with pg_runtime.session_factory() as session:
        moves = session.scalars(
            select(LifecycleEventRow.to_status).where(LifecycleEventRow.model_id == uuid.UUID(model_id))
        ).all()
    assert moves == []  # counting never moves the lifecycle


def test_bad_endpoint_requests_get_clear_errors(pg_api, pg_runtime):
    model_id = add_model(pg_runtime, project_of(pg_api), "gated", status="validating")
    cases = [
        ({"modelId": model_id, "tier": "gold"}, 400, "Unknown tier 'gold'; choose from self_hosted"),
        ({"modelId": "x@", "tier": SELF_HOSTED}, 400, "Invalid model ID"),
        ({"modelId": "x", "tier": SELF_HOSTED}, 404, "Model not found"),
        ({"modelId": str(uuid.uuid4()), "tier": SELF_HOSTED}, 404, "Model not found"),
        ({"modelId": model_id, "tier": SELF_HOSTED}, 400, "Model is validating; an endpoint needs"),
        ({"tier": SELF_HOSTED}, 400, "Invalid request: modelId: Field required"),
    ]
    for body, status, message in cases:
        response = pg_api.post("/v1/endpoints", json=body)
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"]["message"].startswith(message)
    assert pg_api.get("/v1/endpoints/not-a-uuid").json()["error"]["message"] == "Invalid endpoint ID"


def test_concurrent_deletes_demote_exactly_when_the_last_shared_tier_endpoint_goes(pg_api, pg_runtime):
    """Each delete is followed by its own recount, all in parallel: the last one must demote."""
    owner = project_of(pg_api)
    model_id = add_model(pg_runtime, owner, "contended")
    share_model(pg_runtime, owner, uuid.UUID(model_id))
    set_catalog_role(pg_runtime, uuid.UUID(model_id), CatalogRole.SHARED)
    keys = [new_project(pg_runtime, f"user-{i}")[1] for i in range(8)]
    made = [
        (
            key,
            pg_api.post(
                "/v1/endpoints",
                json={"modelId": model_id, "tier": SHARED_TIER_SLUGS[i % len(SHARED_TIER_SLUGS)]},
                headers={"Authorization": f"Bearer {key}"},
            ).json()["id"],
        )
        for i, key in enumerate(keys)
    ]
    endpoint_counts.endpoint_changed(pg_runtime, owner, "contended")
    assert model_row(pg_runtime, model_id).catalog_role == "shared"
    barrier = threading.Barrier(len(made))

    def delete_then_recount(item):
        key, endpoint_id = item
        barrier.wait()
        assert pg_api.delete(f"/v1/endpoints/{endpoint_id}", headers={"Authorization": f"Bearer {key}"})
        return endpoint_counts.endpoint_changed(pg_runtime, owner, "contended")

    with ThreadPoolExecutor(len(made)) as pool:
        results = list(pool.map(delete_then_recount, made))
    model = model_row(pg_runtime, model_id)
    assert (model.catalog_role, model.deployment_count, model.status) == ("deployable", 0, "ready")
    assert sum(r.demoted for r in results) == 1


def test_a_create_racing_a_demotion_never_leaves_a_shared_tier_endpoint_on_a_deployable_model(
    pg_api, pg_runtime
):
    owner = project_of(pg_api)
    _, key = new_project(pg_runtime, "racer")
    headers = {"Authorization": f"Bearer {key}"}
    model_id = add_model(pg_runtime, owner, "raced")
    share_model(pg_runtime, owner, uuid.UUID(model_id))
    for _ in range(5):
        set_catalog_role(pg_runtime, uuid.UUID(model_id), CatalogRole.SHARED)
        barrier = threading.Barrier(2)

        def create(barrier=barrier):
            barrier.wait()
            return pg_api.post(
                "/v1/endpoints", json={"modelId": model_id, "tier": SHARED_TIER}, headers=headers
            )

        def recount(barrier=barrier):
            barrier.wait()
            return endpoint_counts.endpoint_changed(pg_runtime, owner, "raced")

        with ThreadPoolExecutor(2) as pool:
            made, _ = pool.submit(create), pool.submit(recount)
            response = made.result()
        live = endpoint_counts.endpoint_changed(pg_runtime, owner, "raced").shared_tier_endpoints
        role = model_row(pg_runtime, model_id).catalog_role
        if response.status_code == 201:
            assert live >= 1 and role == "shared"
            pg_api.delete(f"/v1/endpoints/{response.json()['id']}", headers=headers)
        else:
            assert response.status_code == 403 and role == "deployable"
        endpoint_counts.endpoint_changed(pg_runtime, owner, "raced")
        assert model_row(pg_runtime, model_id).catalog_role == "deployable"
