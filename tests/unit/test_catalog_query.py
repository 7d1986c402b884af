"""Catalog filters and cursors: validation and round trips (no database)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xerotier.catalog.public.query import CatalogFilter, Cursor, like_pattern
from xerotier.errors import InvalidInput


@given(
    st.datetimes(timezones=st.just(UTC), min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    st.uuids(),
)
def test_cursor_round_trips(when, ident):
    cursor = Cursor(when, ident)
    assert Cursor.decode(cursor.encode()) == cursor


@pytest.mark.parametrize(
    "token", ["", "not-base64!!", "Zm9v", Cursor(datetime(2026, 1, 1), uuid.uuid4()).encode()]
)
def test_a_bad_cursor_is_invalid_input(token):
    with pytest.raises(InvalidInput, match="Invalid cursor"):
        Cursor.decode(token)


def test_filters_reject_unknown_workload_and_empty_ranges():
    with pytest.raises(InvalidInput, match="Invalid workloadType 'vision': expected one of chat, code"):
        CatalogFilter(workload_type="vision")
    with pytest.raises(InvalidInput, match="parameter range is empty"):
        CatalogFilter(min_parameters=10, max_parameters=5)
    with pytest.raises(InvalidInput, match="context length range cannot be negative"):
        CatalogFilter(min_context_length=-1)
    assert CatalogFilter(workload_type="embedding", min_parameters=1, max_parameters=1).workload_type


def test_like_pattern_escapes_wildcards():
    assert like_pattern("Llama_3%") == "%llama\\_3\\%%"
    assert like_pattern("a\\b") == "%a\\\\b%"
