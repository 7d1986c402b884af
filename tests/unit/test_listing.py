"""Keyset cursors and list filters (pure)."""

from __future__ import annotations

import uuid

import pytest

from xerotier.catalog.listing import ListFilter, decode_cursor, encode_cursor, like_prefix
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
