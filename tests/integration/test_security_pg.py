"""Security on PostgreSQL: keys, cross-project isolation on every route, and what errors never say."""

from __future__ import annotations

import os
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import text

from conftest import free_port
from support.sharing import add_model, new_project, project_of
from xerotier.db.api_keys import list_keys, revoke_key
from xerotier.db.models import Model
from xerotier.domain.tiers import SELF_HOSTED
from xerotier.gateway.app import SERVICE_ROUTERS, create_app

pytestmark = pytest.mark.integration
LEAKS = re.compile(
    r"traceback|File \"|\bselect\b|\binsert\b|\bupdate\b .* set|sqlalchemy|psycopg|xero_", re.I
)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def assert_clean(response, *secrets: str) -> None:
    """An error response: the envelope, and nothing a caller must not see."""
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "code"}, body
    assert not LEAKS.search(response.text), response.text
    for secret in secrets:
        assert secret not in response.text
        assert secret[-40:] not in response.text


# --- keys --------------------------------------------------------------------------------------


def test_tampered_truncated_revoked_and_malformed_keys_get_401(pg_api, pg_runtime):
    _, key = new_project(pg_runtime, "keyed")
    assert pg_api.get("/v1/models", headers=bearer(key)).status_code == 200
    flipped = key[:-1] + ("A" if key[-1] != "A" else "B")
    wrong_slug = key.replace("xero_keyed_", "xero_test_")
    attempts = [
        bearer(flipped),
        bearer(key[:-1]),
        bearer(key + "x"),
        bearer(key[:20]),
        bearer(wrong_slug),
        {"Authorization": f"Basic {key}"},
        {"Authorization": key},
        {"Authorization": ""},
        {"Authorization": "Bearer " + "x" * 5000},
    ]
    for headers in attempts:
        response = pg_api.get("/v1/models", headers=headers)
        assert response.status_code == 401, headers
        assert response.json()["error"] == {
            "message": "Authentication required",
            "type": "authentication_error",
            "code": None,
        }
        assert_clean(response, key)
    with pg_runtime.unit_of_work() as session:
        revoke_key(session, "keyed", list_keys(session, "keyed")[0].id)
    revoked = pg_api.get("/v1/models", headers=bearer(key))
    assert revoked.status_code == 401 and revoked.json()["error"]["message"] == "Authentication required"


def test_keys_are_stored_hashed_and_record_last_use(pg_api, pg_runtime):
    _, key = new_project(pg_runtime, "hashed")
    secret = key.rsplit("_", 1)[1]
    with pg_runtime.session_factory() as session:
        (before,) = list_keys(session, "hashed")
    assert before.last_used_at is None
    with pg_runtime.engine.connect() as connection:
        dump = " ".join(str(v) for r in connection.execute(text("SELECT * FROM api_keys")) for v in r)
    assert secret not in dump and secret[12:] not in dump
    pg_api.get("/v1/models", headers=bearer(key))
    with pg_runtime.session_factory() as session:
        (info,) = list_keys(session, "hashed")
    assert info.last_used_at is not None and info.revoked_at is None
    assert info.prefix == f"xero_hashed_{secret[:12]}…"


def test_project_path_must_match_the_key(pg_api, pg_runtime):
    mine = project_of(pg_api)
    other, _ = new_project(pg_runtime, "elsewhere")
    assert pg_api.get(f"/{mine}/v1/models").status_code == 200
    assert pg_api.get("/test/v1/models").status_code == 200  # the slug works too
    for project in (other, "elsewhere", "proj_DOESNOTEXIST"):
        response = pg_api.get(f"/{project}/v1/models")
        assert response.status_code == 404
        assert_clean(response)


# --- cross-project isolation ---------------------------------------------------------------------


def model_routes() -> list[tuple[str, str]]:
    """Every (method, /v1 path) of the services that takes a model id (new routers are covered too)."""
    found = []
    for route in (r for router in SERVICE_ROUTERS for r in router.routes):
        path = "/v1" + getattr(route, "path", "")
        if "{model_id}" in path:
            found += [(m, path) for m in sorted(getattr(route, "methods", ())) if m != "HEAD"]
    return found


def call(client, method, path, model_id, headers, body=None):
    url = re.sub(r"\{file_path:path\}|\{[a-z_]+\}", "x", path.replace("{model_id}", model_id))
    return client.request(method, url, headers=headers, json=body if body is not None else {})


def test_every_model_route_treats_a_foreign_model_as_missing(pg_api, pg_runtime):
    owner_project, _ = new_project(pg_runtime, "owner")
    foreign = add_model(pg_runtime, owner_project, "private-model")
    _, key = new_project(pg_runtime, "intruder")
    routes = model_routes()
    assert {p for _, p in routes} >= {
        "/v1/models/{model_id}",
        "/v1/models/{model_id}/share",
        "/v1/models/{model_id}/unshare",
        "/v1/models/{model_id}/complete",
        "/v1/models/{model_id}/revalidate",
        "/v1/catalog/models/{model_id}",
    }
    for method, path in routes:
        missing = call(pg_api, method, path, str(uuid.uuid4()), bearer(key))
        theirs = call(pg_api, method, path, foreign, bearer(key))
        assert (theirs.status_code, theirs.json()) == (missing.status_code, missing.json()), (method, path)
        assert theirs.status_code in (400, 404), (method, path, theirs.text)
        assert_clean(theirs, key)
    with pg_runtime.session_factory() as session:
        model = session.get(Model, uuid.UUID(foreign))
    assert (model.status, model.is_shared) == ("ready", False)


def test_endpoints_of_another_project_and_private_models_look_missing(pg_api, pg_runtime):
    mine = add_model(pg_runtime, project_of(pg_api), "endpointed")
    endpoint = pg_api.post("/v1/endpoints", json={"modelId": mine, "tier": SELF_HOSTED}).json()["id"]
    _, key = new_project(pg_runtime, "snoop")
    for method, path in [("GET", "/v1/endpoints/{}"), ("DELETE", "/v1/endpoints/{}")]:
        missing = pg_api.request(method, path.format(uuid.uuid4()), headers=bearer(key))
        theirs = pg_api.request(method, path.format(endpoint), headers=bearer(key))
        assert (
            (theirs.status_code, theirs.json())
            == (missing.status_code, missing.json())
            == (
                404,
                {"error": {"message": "Endpoint not found", "type": "not_found_error", "code": None}},
            )
        )
    assert pg_api.get("/v1/endpoints", headers=bearer(key)).json()["endpoints"] == []
    on_private = pg_api.post(
        "/v1/endpoints", json={"modelId": mine, "tier": SELF_HOSTED}, headers=bearer(key)
    )
    on_missing = pg_api.post(
        "/v1/endpoints", json={"modelId": str(uuid.uuid4()), "tier": SELF_HOSTED}, headers=bearer(key)
    )
    assert (on_private.status_code, on_private.json()) == (on_missing.status_code, on_missing.json())
    assert pg_api.get(f"/v1/endpoints/{endpoint}").status_code == 200  # still the owner's


# --- the envelope for every kind of error --------------------------------------------------------


@pytest.fixture
def failing_app(pg_runtime):
    """The real app plus two routes that fail the way bugs do (an exception, bad SQL)."""
    app = create_app(pg_runtime)

    def boom() -> None:
        raise RuntimeError("internal detail: password=hunter2 SELECT * FROM api_keys")

    def bad_sql() -> None:
        with pg_runtime.engine.connect() as connection:
            connection.execute(text("SELECT secret_column FROM no_such_table"))

    app.add_api_route("/v1/test-boom", boom)
    app.add_api_route("/v1/test-bad-sql", bad_sql)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_every_framework_and_unexpected_error_uses_the_envelope(pg_api, failing_app, caplog):
    key = pg_api.headers["Authorization"].split()[1]
    cases = [
        (pg_api.get("/v1/nothing-here"), 404, "not_found_error"),
        (pg_api.delete("/v1/models"), 405, "invalid_request_error"),
        (
            pg_api.post("/v1/models", content=b"{not json", headers={"content-type": "application/json"}),
            400,
            None,
        ),
        (pg_api.post("/v1/models", json={"name": 3, "bogus": True}), 400, "invalid_request_error"),
        (pg_api.get("/v1/catalog/models", params={"limit": "many"}), 400, "invalid_request_error"),
        (failing_app.get("/v1/test-boom"), 500, "internal_error"),
        (failing_app.get("/v1/test-bad-sql"), 500, "internal_error"),
    ]
    for response, status, kind in cases:
        assert response.status_code == status, response.text
        assert_clean(response, key)
        if kind:
            assert response.json()["error"]["type"] == kind
    for response, *_ in cases[-2:]:
        message = response.json()["error"]["message"]
        match = re.fullmatch(r"Internal server error \(request id ([0-9a-f]{32})\)", message)
        assert match, message
        assert response.headers["x-request-id"] == match.group(1)
        assert "hunter2" not in response.text and "no_such_table" not in response.text
    assert "hunter2" in caplog.text and "no_such_table" in caplog.text  # the detail goes to the log


def test_a_request_id_is_echoed_only_when_it_is_a_plain_token(failing_app):
    plain = failing_app.get("/v1/test-boom", headers={"X-Request-ID": "req-42.a_b"})
    assert plain.headers["x-request-id"] == "req-42.a_b"
    assert plain.json()["error"]["message"] == "Internal server error (request id req-42.a_b)"
    junk = failing_app.get("/v1/test-boom", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert "script" not in junk.text and "script" not in junk.headers["x-request-id"]


def test_a_value_the_database_refuses_is_a_400_in_the_envelope(pg_api):
    # Found by schemathesis: a NUL character in a filter reached PostgreSQL and came back as a 500.
    for path in ("/v1/models?architecture=a%00b", "/v1/models?namePrefix=%00", "/v1/catalog/models?q=x%00"):
        response = pg_api.get(path)
        assert response.status_code == 400, (path, response.text)
        error = response.json()["error"]
        assert error["type"] == "invalid_request_error" and "NUL" in error["message"]
        assert "SELECT" not in response.text and "\\x00" not in response.text


def test_a_500_on_a_keep_alive_connection_keeps_it_open_and_names_its_own_request(pg_runtime, pg_api, caplog):
    """Found by the soak run: after a streamed upload, a 500 on the same connection named the
    upload's request id, and the server then closed the connection under the client's next request.
    """
    app = create_app(pg_runtime)

    def boom() -> None:
        raise RuntimeError("internal detail")

    app.add_api_route("/v1/test-boom", boom)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    model_id = pg_api.post("/v1/models", json={"name": "keep-alive"}).json()["id"]
    connections = []  # the client's local address per request: the same one means the same connection
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=dict(pg_api.headers)) as client:
            upload = client.put(  # large enough for uvicorn to pause and resume reading mid-body
                f"/v1/models/{model_id}/files/model.bin",
                content=os.urandom(4 << 20),
                headers={"X-Request-ID": "upload-1"},
            )
            connections.append(upload.extensions["network_stream"].get_extra_info("client_addr"))
            failed = client.get("/v1/test-boom", headers={"X-Request-ID": "boom-2"})
            connections.append(failed.extensions["network_stream"].get_extra_info("client_addr"))
            after = client.get("/healthz")
            connections.append(after.extensions["network_stream"].get_extra_info("client_addr"))
    finally:
        server.should_exit = True
        thread.join(20)
    assert upload.status_code == 201, upload.text
    assert failed.status_code == 500
    assert failed.json()["error"]["message"] == "Internal server error (request id boom-2)"
    assert failed.headers["x-request-id"] == "boom-2"
    assert "unhandled error (request boom-2)" in caplog.text
    assert "unhandled error (request upload-1)" not in caplog.text
    assert after.status_code == 200
    assert len(set(connections)) == 1, f"the server closed the connection after the 500: {connections}"


@pytest.mark.parametrize("how", ["revoked", "another project's slug"])
def test_a_refused_key_runs_no_route(pg_api, pg_runtime, how):
    """The key is verified before any route runs: with the models table locked by another
    transaction, a refused key's GET still answers 401 at once (its route, which would read the
    table and wait, never starts). Before one code path, such a GET ran its route first."""
    new_project(pg_runtime, "victim")
    _, key = new_project(pg_runtime, "refused")
    assert pg_api.get("/v1/models", headers=bearer(key)).status_code == 200  # known: verified once
    if how == "revoked":
        with pg_runtime.unit_of_work() as session:
            revoke_key(session, "refused", list_keys(session, "refused")[0].id)
    else:
        key = key.replace("xero_refused_", "xero_victim_")
    with pg_runtime.engine.connect() as locker, ThreadPoolExecutor(1) as pool:
        locker.execute(text("LOCK TABLE models IN ACCESS EXCLUSIVE MODE"))
        answer = pool.submit(pg_api.get, "/v1/models", headers=bearer(key))
        try:  # answered while the lock is still held: the route never touched the table
            response = answer.result(timeout=30)
        finally:
            locker.rollback()  # releases a route that (wrongly) ran and waits
    assert response.status_code == 401 and response.json()["error"]["message"] == "Authentication required"
