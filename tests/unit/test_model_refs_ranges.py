"""Pure rules of getting models out: model references, URL segments, byte ranges, Hub trees."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from xerotier.domain.model_ref import (
    check_alias,
    commit_of,
    decode_segment,
    parse_model_ref,
    parse_tag_filter,
)
from xerotier.domain.ranges import RangeNotSatisfiable, byte_range, etag_matches
from xerotier.errors import InvalidInput
from xerotier.gateway.model_paths import encoded_model_path
from xerotier.hub.protocol import candidate_names, hub_time, revision_ref, tree

ID = uuid.UUID("3f2c6a9e-0000-4000-8000-000000000001")


@pytest.mark.parametrize(
    ("text", "version_id", "name", "selector"),
    [
        (str(ID), ID, None, None),
        ("llama", None, "llama", None),
        ("meta-llama/Llama-3.1-8B@2.0.0", None, "meta-llama/Llama-3.1-8B", "2.0.0"),
        ("llama@latest", None, "llama", "latest"),
        ("llama@champion", None, "llama", "champion"),
        ("a@b@c", None, "a@b", "c"),
    ],
)
def test_references(text, version_id, name, selector):
    ref = parse_model_ref(text)
    assert (ref.version_id, ref.name, ref.selector) == (version_id, name, selector)


def test_selector_kinds():
    assert parse_model_ref("m@1.2.0").version == "1.2.0" and parse_model_ref("m@1.2.0").alias is None
    assert parse_model_ref("m@champion").alias == "champion"
    assert parse_model_ref("m").wants_latest and parse_model_ref("m@latest").wants_latest


@pytest.mark.parametrize("text", ["", "m@", "@", "x\x00y", "a" * 400])
def test_malformed_references(text):
    with pytest.raises(InvalidInput, match="Invalid model ID"):
        parse_model_ref(text)


def test_segment_is_decoded_once():
    assert decode_segment("meta-llama%2FLlama%402.0.0") == "meta-llama/Llama@2.0.0"
    assert decode_segment("a%252Fb") == "a%2Fb"


@pytest.mark.parametrize(
    ("raw", "routed"),
    [
        ("/v1/models/org%2Fname/files/a%20b.json", "/v1/models/org%2Fname/files/a b.json"),
        ("/proj_1/v1/models/org%2Fname@2.0.0/versions", "/proj_1/v1/models/org%2Fname@2.0.0/versions"),
        ("/v1/models/plain/files/a%20b", None),
        ("/v1/catalog/models/x%2Fy", None),
    ],
)
def test_the_model_segment_stays_encoded_for_routing(raw, routed):
    assert encoded_model_path(raw) == routed


@pytest.mark.parametrize("alias", ["latest", "main", "1.0.0", "9abc", "a" * 65, "a b", "abcdef" + "0" * 34])
def test_refused_aliases(alias):
    with pytest.raises(InvalidInput):
        check_alias(alias)
    assert check_alias("champion") == "champion"


def test_tag_filter():
    assert parse_tag_filter("eval/mmlu:0.7:x") == ("eval/mmlu", "0.7:x")
    with pytest.raises(InvalidInput):
        parse_tag_filter("novalue")


def test_commit_is_stable_40_hex():
    assert commit_of(ID) == commit_of(uuid.UUID(str(ID))) and len(commit_of(ID)) == 40
    assert commit_of(ID) != commit_of(uuid.uuid4())


@pytest.mark.parametrize(
    ("header", "size", "span"),
    [
        (None, 10, None),
        ("bytes=0-", 10, (0, 9)),
        ("bytes=2-4", 10, (2, 4)),
        ("bytes=5-100", 10, (5, 9)),
        ("bytes=-3", 10, (7, 9)),
        ("bytes=-30", 10, (0, 9)),
        ("bytes=0-1,4-5", 10, None),
        ("items=0-1", 10, None),
        ("bytes=4-2", 10, None),
        ("bytes=x-", 10, None),
    ],
)
def test_byte_ranges(header, size, span):
    assert byte_range(header, size) == span


@pytest.mark.parametrize(("header", "size"), [("bytes=10-", 10), ("bytes=-0", 10), ("bytes=0-", 0)])
def test_unsatisfiable_ranges(header, size):
    with pytest.raises(RangeNotSatisfiable):
        byte_range(header, size)


def test_etags():
    assert etag_matches('"abc"', "abc") and etag_matches('W/"abc", "x"', "abc") and etag_matches("*", "x")
    assert not etag_matches('"abd"', "abc") and not etag_matches(None, "abc")


def test_hub_names_revisions_and_trees():
    assert candidate_names("acme", "tiny", "acme", "proj_1") == ["acme/tiny", "tiny"]
    assert candidate_names("meta-llama", "L", "acme", "proj_1") == ["meta-llama/L"]
    assert revision_ref("tiny", "main").wants_latest and revision_ref("tiny", "2.0.0").version == "2.0.0"
    files = [SimpleNamespace(path=p, sha256="a" * 64, size_bytes=1) for p in ("a.json", "d/e/f.bin", "d/g")]
    assert [e["path"] for e in tree(files, "", recursive=True)] == ["d", "d/e", "a.json", "d/e/f.bin", "d/g"]
    assert [e["path"] for e in tree(files, "", recursive=False)] == ["d", "a.json"]
    assert [e["path"] for e in tree(files, "d", recursive=False)] == ["d/e", "d/g"]
    assert hub_time(datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)) == "2026-01-02T03:04:05.678Z"
