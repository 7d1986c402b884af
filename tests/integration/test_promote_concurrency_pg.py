"""Exactly one latest under real concurrency: 50 simultaneous promotes over HTTP against a real
uvicorn server on PostgreSQL; every request answered cleanly (no 5xx)."""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from conftest import free_port
from support.processes import ManagedProcess
from support.serve import mint_key, start_serve
from xerotier.db.models import Model
from xerotier.db.transitions import apply_transition
from xerotier.db.versioning_models import PromotionEvent
from xerotier.domain.lifecycle import LifecycleEvent, ModelStatus

pytestmark = pytest.mark.integration
VERSIONS = 50


@pytest.fixture
def server(pg_settings, pg_runtime, tmp_path) -> Iterator[tuple[ManagedProcess, str]]:
    _, key = mint_key(pg_runtime, "concurrency")
    proc = start_serve(pg_settings, free_port(), tmp_path / "serve.log")
    yield proc, key
    proc.stop()


def _ready(runtime, model_id: str) -> None:
    mid = uuid.UUID(model_id)
    with runtime.unit_of_work() as session:
        assert apply_transition(session, mid, ModelStatus.UPLOADING, LifecycleEvent.COMPLETE)
        assert apply_transition(session, mid, ModelStatus.VALIDATING, LifecycleEvent.VALIDATION_PASSED)


def test_fifty_concurrent_promotes_leave_exactly_one_latest(server, pg_runtime):
    proc, key = server
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=proc.url, headers=headers, timeout=60) as client:
        first = client.post("/v1/models", json={"name": "contended"}).json()
        ids = [first["id"]]
        for i in range(1, VERSIONS):
            created = client.post(f"/v1/models/{first['id']}/versions", json={"version": f"1.{i}.0"})
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])
    for model_id in ids:
        _ready(pg_runtime, model_id)
    versions = ["1.0.0"] + [f"1.{i}.0" for i in range(1, VERSIONS)]

    barrier = threading.Barrier(VERSIONS)
    answers: dict[str, httpx.Response] = {}

    def promote(version: str) -> None:
        with httpx.Client(base_url=proc.url, headers=headers, timeout=120) as own:
            barrier.wait()
            answers[version] = own.post(f"/v1/models/{first['id']}/versions/{version}/promote")

    threads = [threading.Thread(target=promote, args=(v,)) for v in versions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)

    assert len(answers) == VERSIONS
    codes = {v: r.status_code for v, r in answers.items()}
    # promotes of one name queue on its lock: none is refused, none fails (a 409 would be clean, a 5xx never)
    assert all(code == 200 for code in codes.values()), {v: answers[v].text for v in codes if codes[v] != 200}
    assert all("promotion" in r.json() for r in answers.values())

    with pg_runtime.session_factory() as session:
        latest = list(
            session.scalars(select(Model.version).where(Model.name == "contended", Model.is_latest))
        )
        events = list(
            session.scalars(
                select(PromotionEvent).where(PromotionEvent.name == "contended").order_by(PromotionEvent.id)
            )
        )
    assert len(latest) == 1
    # the history is one unbroken chain of pointer moves, ending at the latest
    promoted = [v for v, r in answers.items() if r.status_code == 200 and r.json()["promotion"] == "promoted"]
    assert len(events) == len(promoted) and events
    assert events[0].from_version == "1.0.0"
    for before, after in itertools.pairwise(events):
        assert after.from_version == before.to_version
    assert events[-1].to_version == latest[0]
    assert "Traceback" not in proc.log()
