"""The lifecycle in the database: compare-and-set, constraints, the outbox and the reconciler."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from xerotier.db.models import LifecycleEventRow, Model, OutboxMessage
from xerotier.db.projects import get_or_create_project
from xerotier.db.transitions import apply_transition
from xerotier.domain.lifecycle import LifecycleEvent, ModelStatus
from xerotier.errors import IllegalTransition
from xerotier.queue import names, outbox
from xerotier.queue.reconciler import reconcile_once

pytestmark = pytest.mark.integration


def _model(
    session,
    project_id: str,
    name: str = "m",
    version: str = "1.0.0",
    latest: bool = True,
    status: str = "validating",
) -> Model:
    row = Model(project_id=project_id, name=name, version=version, is_latest=latest, status=status)
    session.add(row)
    session.flush()
    return row


@pytest.fixture
def project_id(pg_runtime) -> str:
    with pg_runtime.unit_of_work() as session:
        return get_or_create_project(session, "lifecycle").id


def test_duplicate_delivery_changes_nothing(pg_runtime, project_id):
    with pg_runtime.unit_of_work() as session:
        model_id = _model(session, project_id).id
    results = []
    for _ in range(2):
        with pg_runtime.unit_of_work() as session:
            results.append(
                apply_transition(session, model_id, ModelStatus.VALIDATING, LifecycleEvent.VALIDATION_PASSED)
            )
    assert results == [True, False]
    with pg_runtime.session_factory() as session:
        events = session.scalars(
            select(LifecycleEventRow).where(LifecycleEventRow.model_id == model_id)
        ).all()
        assert [(e.from_status, e.to_status) for e in events] == [("validating", "ready")]


def test_illegal_transition_is_refused_before_touching_the_row(pg_runtime, project_id):
    with pg_runtime.unit_of_work() as session:
        model_id = _model(session, project_id, status="error").id
    with pytest.raises(IllegalTransition), pg_runtime.unit_of_work() as session:
        apply_transition(session, model_id, ModelStatus.ERROR, LifecycleEvent.SERVE)
    with pg_runtime.session_factory() as session:
        assert session.get(Model, model_id).status == "error"


def test_task_and_transition_commit_or_roll_back_together(pg_runtime, project_id):
    with pg_runtime.unit_of_work() as session:
        model_id = _model(session, project_id, status="uploading").id
    with pytest.raises(RuntimeError), pg_runtime.unit_of_work() as session:
        apply_transition(
            session,
            model_id,
            "uploading",
            LifecycleEvent.COMPLETE,
            then=lambda s: outbox.enqueue(s, names.VALIDATE, model_id=str(model_id)),
        )
        raise RuntimeError("crash before commit")
    with pg_runtime.session_factory() as session:
        assert session.get(Model, model_id).status == "uploading"
        assert session.scalars(select(OutboxMessage)).all() == []


def test_database_keeps_one_latest_per_name_and_unique_versions(pg_runtime, project_id):
    with pg_runtime.unit_of_work() as session:
        _model(session, project_id, version="1.0.0", latest=True)
    with pytest.raises(IntegrityError), pg_runtime.unit_of_work() as session:
        _model(session, project_id, version="2.0.0", latest=True)
    with pytest.raises(IntegrityError), pg_runtime.unit_of_work() as session:
        _model(session, project_id, version="1.0.0", latest=False)
    with pg_runtime.unit_of_work() as session:  # another name, or a non-latest version, is fine
        _model(session, project_id, version="2.0.0", latest=False)
        _model(session, project_id, name="other", latest=True)


def test_reconciler_redrives_then_gives_up(pg_runtime, project_id):
    past = datetime.now(UTC) - timedelta(seconds=1)
    with pg_runtime.unit_of_work() as session:
        model_id = _model(session, project_id).id
        session.execute(update(Model).where(Model.id == model_id).values(deadline_at=past))
    max_attempts = pg_runtime.settings.max_attempts
    for attempt in range(1, max_attempts + 1):
        assert reconcile_once(pg_runtime, now=datetime.now(UTC) + timedelta(days=attempt)) == 1
        with pg_runtime.session_factory() as session:
            model = session.get(Model, model_id)
            assert (model.status, model.attempts) == ("validating", attempt)
    # every re-drive left a task in the outbox (published to the real broker)
    with pg_runtime.session_factory() as session:
        sent = session.scalars(select(OutboxMessage).where(OutboxMessage.task_name == names.VALIDATE)).all()
        assert len(sent) == max_attempts and all(row.published_at for row in sent)
    reconcile_once(pg_runtime, now=datetime.now(UTC) + timedelta(days=max_attempts + 1))
    with pg_runtime.session_factory() as session:
        model = session.get(Model, model_id)
        assert model.status == "error"
        assert "did not finish" in model.validation_error


def test_relay_publishes_rows_left_behind_by_a_crash(pg_runtime, project_id):
    # Commit the task without the unit of work's immediate publish: as if the process died after commit.
    with pg_runtime.session_factory() as session:
        outbox.enqueue(session, names.VALIDATE, model_id=str(uuid.uuid4()))
        session.commit()
    assert outbox.relay(pg_runtime.session_factory, pg_runtime.celery) == 1
    assert outbox.relay(pg_runtime.session_factory, pg_runtime.celery) == 0
