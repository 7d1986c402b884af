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
from xerotier import auth
from xerotier.api.deps import memo_key
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
        parsed = auth.parse_key(key)
        assert parsed is not None and known.get(memo_key(parsed)) is not None  # the next GET won't wait
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
        assert known.get(memo_key(parsed)) is None  # forgotten: the next request waits again


def test_a_tampered_secret_behind_a_known_lookup_waits_and_gets_nothing(pg_runtime: Runtime) -> None:
    """Only the very key verified before skips the wait: with a wrong secret, no route runs before
    the verification (so a refusal takes no longer for a larger project), and the answer is a 401."""
    project_id, key = new_project(pg_runtime, "tamper")
    add_model(pg_runtime, project_id, "private-model")
    dsn = conninfo(pg_runtime.settings.resolved_database_url)
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    answers: list[tuple[int, str]] = []
    with TestClient(create_app(pg_runtime), raise_server_exceptions=False) as client:
        assert client.get("/v1/models", headers={"Authorization": f"Bearer {key}"}).status_code == 200
        with psycopg.connect(dsn) as locker:
            locker.execute("LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE")
            locked_at = locker.execute("SELECT clock_timestamp()").fetchone()[0]

            def request() -> None:
                answer = client.get("/v1/models", headers={"Authorization": f"Bearer {tampered}"})
                answers.append((answer.status_code, answer.text))

            thread = threading.Thread(target=request)
            thread.start()
            _wait_for(dsn, locked_at, listed=False)
            time.sleep(0.3)
            assert _activity(dsn, locked_at)[0] == 0  # the page was not read while the key waits
        thread.join(timeout=30)
        assert len(answers) == 1 and answers[0][0] == 401 and "private-model" not in answers[0][1]
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
            _wait_for(dsn, locked_at, listed=True)  # the route ran while the lookup waits on the lock
            time.sleep(0.3)
            assert answers == []  # held: the key is not verified yet
            locker.execute(
                "UPDATE api_keys SET revoked_at = %s WHERE lookup = %s", (datetime.now(UTC), _lookup(key))
            )
        thread.join(timeout=30)
    assert len(answers) == 1
    status, text = answers[0]
    assert status == 401 and "overlapped" not in text


def _activity(dsn: str, since: datetime) -> tuple[int, int]:
    """(sessions of this database that ran the model list page since ``since``, lookups waiting on a
    lock). PostgreSQL keeps an idle session's last statement in ``pg_stat_activity``."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE state = 'idle' AND query LIKE %s AND query_start > %s),"
            " count(*) FILTER (WHERE wait_event_type = 'Lock' AND query LIKE %s)"
            " FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
            ("%json_build_object%", since, "%api_keys%"),
        ).fetchone()
    assert row is not None
    return row[0], row[1]


def _wait_for(dsn: str, since: datetime, *, listed: bool) -> None:
    """Until a lookup waits on the lock and (``listed``) the model list page was read meanwhile."""
    deadline = time.monotonic() + 20
    while True:
        pages, waiting = _activity(dsn, since)
        if waiting and (pages or not listed):
            return
        assert time.monotonic() < deadline, f"page read: {pages}, lookup waiting: {waiting}"
        time.sleep(0.02)
