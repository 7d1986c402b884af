"""The registry's invariants after a fault, checked on the real database and blob store.

1. every model reaches a settled status (ready, error, active) within a bound;
2. no transition happened twice: each model's lifecycle log is one legal chain (every event leaves
   the status the previous one entered) that ends in the model's current status;
3. no blob is missing (every file row has its blob row, a matching reference count and stored
   bytes) and none is orphaned (after one garbage-collection pass, every stored blob is referenced);
4. exactly one latest per name that has a servable version, never more than one.

``check`` prints what it checked and raises ``AssertionError`` listing every violation.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select

from xerotier.db.models import Blob, LifecycleEventRow, Model, ModelFile, OutboxMessage
from xerotier.domain.lifecycle import SERVABLE, SETTLED, TRANSITIONS, LifecycleEvent, ModelStatus
from xerotier.runtime import Runtime
from xerotier.storage.collector import collect


@dataclass
class Report:
    models: int = 0
    events: int = 0
    file_rows: int = 0
    blobs: int = 0
    names: int = 0
    settle_seconds: float = 0.0
    statuses: Counter[str] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)

    def summary(self, scenario: str) -> str:
        status = ", ".join(f"{k}={v}" for k, v in sorted(self.statuses.items()))
        return (
            f"[{scenario}] checked {self.models} models ({status}) settled in {self.settle_seconds:.1f}s; "
            f"{self.events} lifecycle events form legal chains; {self.file_rows} file rows over "
            f"{self.blobs} blobs: none missing, none orphaned; {self.names} names: one latest each"
        )


def wait_settled(runtime: Runtime, timeout: float) -> float:
    """Seconds until no model is in flight and the outbox is drained; raise past ``timeout``."""
    start = time.monotonic()
    settled = [s.value for s in SETTLED]
    while True:
        with runtime.session_factory() as session:
            pending = session.scalar(
                select(func.count()).select_from(Model).where(Model.status.notin_(settled))
            )
            unsent = session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.published_at.is_(None))
            )
        if not pending and not unsent:
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise AssertionError(
                f"{pending} models still in flight, {unsent} outbox rows unsent after {timeout}s"
            )
        time.sleep(0.25)


_EVENTS = {e.value for e in LifecycleEvent}


def _chain_violations(model: Model, events: list[LifecycleEventRow]) -> list[str]:
    problems: list[str] = []
    previous: str | None = None
    for row in events:
        if row.from_status != previous:
            problems.append(f"model {model.id}: {row.event} from {row.from_status} but it was {previous}")
        elif row.event in _EVENTS:  # a transition: legal from where the model was
            legal = TRANSITIONS.get((ModelStatus(previous), LifecycleEvent(row.event))) if previous else None
            if legal is None or legal.value != row.to_status:
                problems.append(f"model {model.id}: illegal {row.event} {previous}→{row.to_status}")
        elif previous is not None and row.to_status != previous:  # a note (redrive, …) moves nothing
            problems.append(f"model {model.id}: note {row.event} moved {previous}→{row.to_status}")
        previous = row.to_status
    if previous != model.status:
        problems.append(f"model {model.id}: log ends in {previous} but the model is {model.status}")
    return problems


def _check_history(runtime: Runtime, report: Report) -> None:
    with runtime.session_factory() as session:
        models = list(session.scalars(select(Model)))
        rows = list(session.scalars(select(LifecycleEventRow).order_by(LifecycleEventRow.id)))
    by_model: dict[object, list[LifecycleEventRow]] = defaultdict(list)
    for row in rows:
        by_model[row.model_id].append(row)
    report.models, report.events = len(models), len(rows)
    report.statuses = Counter(m.status for m in models)
    for model in models:
        if model.status not in {s.value for s in SETTLED}:
            report.violations.append(f"model {model.id} is still {model.status}")
        report.violations += _chain_violations(model, by_model[model.id])


def _check_blobs(runtime: Runtime, report: Report) -> None:
    collect(runtime.session_factory, runtime.blobs, grace=timedelta(0))
    with runtime.session_factory() as session:
        refs = Counter(session.scalars(select(ModelFile.sha256)))
        blobs = {b.sha256: b.refcount for b in session.scalars(select(Blob))}
    stored = {sha for sha, _ in runtime.blobs.iter_blobs()}
    report.file_rows, report.blobs = sum(refs.values()), len(stored)
    for sha, count in refs.items():
        if sha not in blobs:
            report.violations.append(f"blob {sha[:12]} is used by {count} files but has no row")
        elif blobs[sha] != count:
            report.violations.append(f"blob {sha[:12]} counts {blobs[sha]} references, {count} exist")
        if sha not in stored:
            report.violations.append(f"blob {sha[:12]} is missing from the store")
    for sha in stored - set(refs):
        report.violations.append(f"blob {sha[:12]} is orphaned (stored, used by no file)")
    for sha in set(blobs) - set(refs):
        report.violations.append(f"blob row {sha[:12]} survived collection with no file using it")


def _check_latest(runtime: Runtime, report: Report) -> None:
    servable = {s.value for s in SERVABLE}
    with runtime.session_factory() as session:
        rows = session.execute(select(Model.project_id, Model.name, Model.status, Model.is_latest)).all()
    latest: Counter[tuple[str, str]] = Counter()
    has_servable: set[tuple[str, str]] = set()
    for project_id, name, status, is_latest in rows:
        latest[(project_id, name)] += int(bool(is_latest))
        if status in servable:
            has_servable.add((project_id, name))
    names = {(p, n) for p, n, _, _ in rows}
    report.names = len(names)
    for key in names:
        if latest[key] > 1 or (key in has_servable and latest[key] != 1):
            report.violations.append(f"name {key[1]!r} has {latest[key]} latest versions")


def check(runtime: Runtime, scenario: str, settle_timeout: float = 120.0, expect_models: int = 1) -> Report:
    """Wait for every model to settle, check the invariants, print the summary; raise on a violation."""
    report = Report()
    report.settle_seconds = wait_settled(runtime, settle_timeout)
    # the latest pointer moves in the catalog task the ready transition sends: let it run
    deadline = time.monotonic() + 30
    while True:
        report.violations.clear()
        _check_latest(runtime, report)
        if not report.violations or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    _check_history(runtime, report)
    _check_blobs(runtime, report)
    if report.models < expect_models:
        report.violations.append(f"only {report.models} models exist, {expect_models} expected")
    print(report.summary(scenario))
    assert not report.violations, f"[{scenario}] invariants broken:\n" + "\n".join(report.violations)
    return report
