"""Keyset cursors and list filters (pure)."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xerotier.catalog.models.listing import (
    ListFilter,
    decode_cursor,
    encode_cursor,
    like_prefix,
    prefix_successor,
)
from xerotier.errors import InvalidInput


def test_cursor_round_trips_any_name():
    model_id = uuid.uuid4()
    for name in ["a", "llama/3 8B ünïcode", 'quote"s,and]brackets']:
        assert decode_cursor(encode_cursor(name, model_id)) == (name, model_id)


@pytest.mark.parametrize("bad", ["", "not-a-cursor", "W10", "WyJhIiwgIm5vdC1hLXV1aWQiXQ", "eyJhIjoxfQ"])
def test_bad_cursors_are_a_clear_400(bad):
    with pytest.raises(InvalidInput, match="Invalid cursor"):
        decode_cursor(bad)


def test_like_prefix_escapes_wildcards():
    assert like_prefix("a_b%c\\") == "a\\_b\\%c\\\\%"


def test_filters_are_checked():
    ListFilter(status="ready", workload_type="code").check()
    with pytest.raises(InvalidInput, match="Invalid status 'done'"):
        ListFilter(status="done").check()
    with pytest.raises(InvalidInput, match="Invalid workloadType 'poetry'"):
        ListFilter(workload_type="poetry").check()


@given(st.text(max_size=6), st.text(max_size=8))
def test_prefix_successor_bounds_exactly_the_names_with_the_prefix(prefix: str, name: str) -> None:
    upper = prefix_successor(prefix)
    in_range = prefix <= name and (upper is None or name < upper)
    assert in_range == name.startswith(prefix)


def test_prefix_successor_edges() -> None:
    assert prefix_successor("model-1") == "model-2"
    assert prefix_successor("a\U0010ffff") == "b"  # the last character has no successor: carry
    assert prefix_successor("\U0010ffff") is None
    assert prefix_successor("\ud7ff") == "\ue000"  # surrogates skipped
