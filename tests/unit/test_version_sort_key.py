"""``sort_key``: its bytewise order is SemVer precedence (what keyset pages of versions sort on)."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from xerotier.domain.semver import Version
from xerotier.domain.versioning import newest_first, sort_key

SPEC_ORDER = [
    "0.0.1",
    "0.9.0",
    "1.0.0-0",
    "1.0.0-1a",
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-alpha-x",  # "alpha" is a prefix of "alpha-x": lower, whatever follows it
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
    "1.0.1",
    "1.2.0",
    "1.10.0",
    "2.0.0",
    "10.0.0",
    "123456789012345678901234567890.0.0",
]


def test_bytewise_order_of_the_keys_is_the_semver_order():
    shuffled = random.Random(7).sample(SPEC_ORDER, len(SPEC_ORDER))
    assert sorted(shuffled, key=lambda v: sort_key(v).encode()) == SPEC_ORDER


def test_build_metadata_is_ignored_and_unparsable_sorts_below_everything():
    assert sort_key("1.0.0+a") == sort_key("1.0.0+b.7") == sort_key("1.0.0")
    assert sort_key("v1") == "" < sort_key("0.0.0-0")


_IDENT = st.one_of(
    st.integers(0, 10**6).map(str), st.from_regex(r"[0-9A-Za-z-]*[A-Za-z-][0-9A-Za-z-]*", fullmatch=True)
)
_VERSION = st.builds(
    lambda a, b, c, pre: f"{a}.{b}.{c}" + ("-" + ".".join(pre) if pre else ""),
    st.integers(0, 10**4),
    st.integers(0, 30),
    st.integers(0, 300),
    st.lists(_IDENT.filter(lambda s: len(s) < 12), max_size=3),
)


@given(st.lists(_VERSION, min_size=2, max_size=8))
def test_agrees_with_version_precedence(versions):
    by_key = sorted(versions, key=lambda v: sort_key(v).encode(), reverse=True)
    by_precedence = newest_first(versions, lambda v: v)
    assert [Version.parse(v) for v in by_key] == [Version.parse(v) for v in by_precedence]
