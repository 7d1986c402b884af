"""A GET with a key verified before runs beside its verification, and its answer is held until the
key passes: a key revoked or tampered with since is refused, whatever the route would have said, and
a write never runs before its key is verified (PostgreSQL, the real gateway app)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import psycopg
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from conftest import mint_key
from support.sharing import add_model, new_project
from xerotier.db.async_reads import conninfo
from xerotier.db.models import Model
from xerotier.gateway.app import create_app
from xerotier.runtime import Runtime


def _lookup(key: str) -> str:
    return key.split("_")[-1][:12]


def _revoke(dsn: str, key: str) -> None:
    """Revoke as another process would (``xerotier keys revoke`` writes the database directly)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "UPDATE api_keys SET revoked_at = %s WHERE lookup = %s", (datetime.now(UTC), _lookup(key))
        )


def test_a_key_revoked_since_its_last_request_is_refused_by_the_next(pg_runtime: Runtime) -> None:
    project_id, key = new_project(pg_runtime, "held")
    model_id = add_model(pg_runtime, project_id, "secret-model")
    dsn = conninfo(pg_runtime.settings.resolved_database_url)
    with TestClient(create_app(pg_runtime), raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        assert client.get("/v1/models").json()["models"][0]["name"] == "secret-model"
        known = client.app.state.known_keys  # type: ignore[attr-defined]
        assert known.get(_lookup(key)) is not None  # the next GET will not wait for the lookup
        _revoke(dsn, key)
        for path in (
            "/v1/models",
            f"/v1/models/{model_id}",
            "/v1/models/00000000-0000-0000-0000-000000000000",
        ):
            answer = client.get(path)
            assert answer.status_code == 401, (path, answer.text)  # not the route's 200 or 404
            assert answer.json()["error"]["message"] == "Authentication required"
            assert "secret-model" not in answer.text
        assert known.get(_lookup(key)) is None  # forgotten: the next request waits again


def test_a_tampered_secret_behind_a_known_lookup_gets_nothing(pg_runtime: Runtime) -> None:
    project_id, key = new_project(pg_runtime, "tamper")
    add_model(pg_runtime, project_id, "private-model")
    with TestClient(create_app(pg_runtime), raise_server_exceptions=False) as client:
        assert client.get("/v1/models", headers={"Authorization": f"Bearer {key}"}).status_code == 200
        tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
        answer = client.get("/v1/models", headers={"Authorization": f"Bearer {tampered}"})
        assert answer.status_code == 401
        assert "private-model" not in answer.text
        # the real key still works: a failed attempt with its lookup does not lock its owner out
        assert client.get("/v1/models", headers={"Authorization": f"Bearer {key}"}).status_code == 200


def test_a_write_with_a_revoked_key_never_runs(pg_runtime: Runtime) -> None:
    key = mint_key(pg_runtime)
    dsn = conninfo(pg_runtime.settings.resolved_database_url)
    with TestClient(create_app(pg_runtime), raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        assert client.get("/v1/models").status_code == 200  # the key is known now
        _revoke(dsn, key)
        assert client.post("/v1/models", json={"name": "after-revoke"}).status_code == 401
    with pg_runtime.session_factory() as session:
        assert (
            session.scalar(select(func.count()).select_from(Model).where(Model.name == "after-revoke")) == 0
        )


def test_the_route_runs_while_the_verification_waits_and_its_answer_waits_for_it(pg_runtime: Runtime) -> None:
    """With the keys table locked, the lookup waits; the model list is read meanwhile, yet nothing
    is answered. The key is revoked before the lock is released: the answer is a 401."""
    project_id, key = new_project(pg_runtime, "overlap")
    add_model(pg_runtime, project_id, "overlapped")
    dsn = conninfo(pg_runtime.settings.resolved_database_url)
    answers: list[tuple[int, str]] = []
    with TestClient(create_app(pg_runtime), raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        assert client.get("/v1/models").status_code == 200
        with psycopg.connect(dsn) as locker:  # one transaction: the lock is held until commit
            locker.execute("LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE")
            locked_at = locker.execute("SELECT clock_timestamp()").fetchone()[0]

            def request() -> None:
                answer = client.get("/v1/models?namePrefix=overlapped")
                answers.append((answer.status_code, answer.text))

            thread = threading.Thread(target=request)
            thread.start()
            _wait_for_list_read(dsn, locked_at)  # the route ran while the lookup waits on the lock
            time.sleep(0.3)
            assert answers == []  # held: the key is not verified yet
            locker.execute(
                "UPDATE api_keys SET revoked_at = %s WHERE lookup = %s", (datetime.now(UTC), _lookup(key))
            )
        thread.join(timeout=30)
    assert len(answers) == 1
    status, text = answers[0]
    assert status == 401 and "overlapped" not in text


def _wait_for_list_read(dsn: str, since: datetime) -> None:
    """Until a session of this database has run the model list page since ``since`` (PostgreSQL
    keeps an idle session's last statement in ``pg_stat_activity``) and a lookup waits on a lock."""
    deadline = time.monotonic() + 20
    with psycopg.connect(dsn, autocommit=True) as conn:
        while True:
            listed, waiting = conn.execute(
                "SELECT count(*) FILTER (WHERE state = 'idle' AND query LIKE %s AND query_start > %s),"
                " count(*) FILTER (WHERE wait_event_type = 'Lock' AND query LIKE %s)"
                " FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
                ("%json_build_object%", since, "%api_keys%"),
            ).fetchone()
            if listed and waiting:
                return
            assert time.monotonic() < deadline, f"page read: {listed}, lookup waiting: {waiting}"
            time.sleep(0.02)
