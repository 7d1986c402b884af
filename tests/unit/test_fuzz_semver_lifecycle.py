"""Property tests (hypothesis) for the semver parser and the lifecycle state machine.

Bounded budgets (``max_examples``) keep them to seconds in CI. The parser test found that
``Version.parse`` accepted a trailing newline and non-ASCII digits (fixed in xerotier.domain.semver).
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from xerotier.db.models import LifecycleEventRow, Model
from xerotier.db.projects import get_or_create_project
from xerotier.db.transitions import apply_transition
from xerotier.domain.lifecycle import (
    IN_FLIGHT,
    SETTLED,
    TRANSITIONS,
    LifecycleEvent,
    ModelStatus,
    plan_transition,
)
from xerotier.domain.semver import MAX_LENGTH, Version
from xerotier.errors import IllegalTransition, InvalidInput

sys.path.insert(0, str(Path(__file__).parent.parent))
from support.invariants import _chain_violations

# Bounded so that every drawn version fits Version.MAX_LENGTH (128): 3 numbers of at most 19 digits,
# at most 2 pre-release and 2 build identifiers: 59 + 1 + 39 + 1 + 17 = 117 characters at most.
NUM = st.integers(min_value=0, max_value=10**18)
ALNUM = st.sampled_from("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-")
IDENT = st.one_of(
    NUM.map(str),
    st.text(ALNUM, min_size=1, max_size=8).filter(lambda s: not s.isdigit()),
)
BUILD = st.text(ALNUM, min_size=1, max_size=8)


@st.composite
def versions(draw: st.DrawFn) -> str:
    text = f"{draw(NUM)}.{draw(NUM)}.{draw(NUM)}"
    pre = draw(st.lists(IDENT, max_size=2))
    build = draw(st.lists(BUILD, max_size=2))
    if pre:
        text += "-" + ".".join(pre)
    if build:
        text += "+" + ".".join(build)
    assert len(text) <= MAX_LENGTH
    return text


@settings(max_examples=500, deadline=None)
@given(versions())
def test_every_valid_version_round_trips(text: str) -> None:
    assert str(Version.parse(text)) == text


@settings(max_examples=200, deadline=None)
@given(versions(), st.integers(min_value=1, max_value=400))
def test_a_version_longer_than_the_limit_is_refused_naming_the_limit(text: str, extra: int) -> None:
    over = (
        text + "+" + "b" * (MAX_LENGTH - len(text) + extra)
        if "+" not in text
        else text + "b" * (MAX_LENGTH - len(text) + extra)
    )
    assert len(over) > MAX_LENGTH
    with pytest.raises(InvalidInput, match=f"longer than {MAX_LENGTH} characters"):
        Version.parse(over)


@settings(max_examples=1500, deadline=None)
@given(
    st.one_of(
        st.text(max_size=40), versions().map(lambda v: v + "\n"), st.from_regex(r"\A[0-9.+\-a-z٠-٩]{1,20}\Z")
    )
)
def test_any_text_is_parsed_canonically_or_refused_with_a_reason(text: str) -> None:
    try:
        parsed = Version.parse(text)
    except InvalidInput as exc:
        assert "Invalid version" in str(exc)
        return
    # whatever is accepted is plain ASCII semver and prints back exactly as given
    assert text.isascii() and str(parsed) == text


@settings(max_examples=300, deadline=None)
@given(versions(), versions())
def test_precedence_is_a_total_order_agreeing_with_the_numbers(a: str, b: str) -> None:
    va, vb = Version.parse(a), Version.parse(b)
    assert (va < vb) + (vb < va) + (va == vb) == 1
    core_a, core_b = (va.major, va.minor, va.patch), (vb.major, vb.minor, vb.patch)
    if core_a != core_b:
        assert (va < vb) == (core_a < core_b)
    elif va.prerelease and not vb.prerelease:
        assert va < vb


EVENTS = st.sampled_from(list(LifecycleEvent))
STATUSES = st.sampled_from(list(ModelStatus))


@settings(max_examples=500, deadline=None)
@given(st.lists(EVENTS, max_size=30))
def test_random_event_sequences_only_reach_legal_states(events: list[LifecycleEvent]) -> None:
    status = ModelStatus.UPLOADING
    for event in events:
        try:
            step = plan_transition(status, event)
        except IllegalTransition as exc:
            assert (status, event) not in TRANSITIONS and status.value in str(exc)
            continue
        assert TRANSITIONS[(status, event)] is step.target
        status = step.target
        assert status in IN_FLIGHT | SETTLED


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(STATUSES, EVENTS), max_size=20))
def test_compare_and_set_never_applies_a_stale_or_illegal_event(sqlite_runtime, steps) -> None:
    """Deliveries claiming any (possibly stale) current status: the log stays one legal chain."""
    with sqlite_runtime.unit_of_work() as session:
        project = get_or_create_project(session, "fuzz")
        model = Model(
            id=uuid.uuid4(), project_id=project.id, name=f"m-{uuid.uuid4().hex[:8]}", status="uploading"
        )
        session.add(model)
        session.flush()
        session.add(
            LifecycleEventRow(model_id=model.id, event="create", from_status=None, to_status="uploading")
        )
    expected = ModelStatus.UPLOADING
    for claimed, event in steps:
        with sqlite_runtime.unit_of_work() as session:
            try:
                applied = apply_transition(session, model.id, claimed, event)
            except IllegalTransition:
                assert (claimed, event) not in TRANSITIONS
                continue
        assert applied == (claimed is expected)
        if applied:
            expected = TRANSITIONS[(claimed, event)]
    with sqlite_runtime.session_factory() as session:
        row = session.get(Model, model.id)
        log = list(session.scalars(select(LifecycleEventRow).where(LifecycleEventRow.model_id == model.id)))
        assert row.status == expected.value
        assert _chain_violations(row, log) == []
        assert len(log) == 1 + sum(1 for e in log if e.event != "create")
